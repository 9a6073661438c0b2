// Reading one ONNX node: errors that name it, its attributes (only the listed ones may appear) and per-channel
// constant operands. Internal to the ONNX loader.
#pragma once

#include "nn/onnx_constant.h"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace cryptounet::nn::onnx_import {

using Attributes = std::map<std::string, const onnx::AttributeProto*>;

// "ONNX node 'name' (Op)" (the first output when the node has no name).
std::string describe(const onnx::NodeProto& node);
// std::runtime_error "<describe(node)>: <what>".
[[noreturn]] void fail(const onnx::NodeProto& node, const std::string& what);
void require(const onnx::NodeProto& node, bool ok, const std::string& what);

// The node's attributes; any not in `allowed` fails naming it.
Attributes attributes(const onnx::NodeProto& node, const std::set<std::string>& allowed);
std::vector<std::int64_t> ints(const Attributes& attrs, const std::string& key, std::vector<std::int64_t> fallback);
std::int64_t integer(const Attributes& attrs, const std::string& key, std::int64_t fallback);
// auto_pad, if present, must be NOTSET (explicit pads).
void check_auto_pad(const onnx::NodeProto& node, const Attributes& attrs);

// Per-channel coefficients from a constant of shape [C], [C,1,1], [1,C,1,1] or a single value (broadcast).
std::vector<double> per_channel(const onnx::NodeProto& node, const Constant& c, int channels);

}  // namespace cryptounet::nn::onnx_import
