// Constant tensors of an ONNX graph (initializers, Constant nodes) and the evaluation of the small constant
// subgraphs exporters emit around them (Shape -> Gather -> Unsqueeze -> Concat, casts, arithmetic on weights).
// Internal to the ONNX loader.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cryptounet::nn::onnx_import {

struct Constant {
  std::vector<std::int64_t> dims;
  std::vector<double> values;  // row-major; integer tensors hold exact integers (|v| < 2^53)
  bool integer = false;

  std::size_t size() const { return values.size(); }
};

// Initializer or Constant-node tensor -> Constant; throws naming `what` for external data, unsupported types, or a
// value count that does not match the shape.
Constant to_constant(const onnx::TensorProto& tensor, const std::string& what);

// A Constant node's value, whichever attribute holds it (value, value_float(s), value_int(s)).
Constant constant_node_value(const onnx::NodeProto& node);

// True for the ops `fold` evaluates.
bool is_foldable(const std::string& op_type);

// Evaluates a foldable node whose inputs are all constants (inputs[k] == nullptr: optional input absent). Throws
// std::runtime_error (without the node's name; the caller adds it) for attributes or shapes it cannot evaluate.
Constant fold(const onnx::NodeProto& node, const std::vector<const Constant*>& inputs);

}  // namespace cryptounet::nn::onnx_import
