#include "nn/onnx_node.h"

#include <stdexcept>

namespace cryptounet::nn::onnx_import {

std::string describe(const onnx::NodeProto& node) {
  const std::string name = !node.name().empty() ? node.name() : node.output_size() ? node.output(0) : "?";
  return "ONNX node '" + name + "' (" + node.op_type() + ")";
}

void fail(const onnx::NodeProto& node, const std::string& what) {
  throw std::runtime_error(describe(node) + ": " + what);
}

void require(const onnx::NodeProto& node, bool ok, const std::string& what) {
  if (!ok) fail(node, what);
}

Attributes attributes(const onnx::NodeProto& node, const std::set<std::string>& allowed) {
  Attributes out;
  for (const auto& a : node.attribute()) {
    if (!allowed.count(a.name())) fail(node, "unsupported attribute '" + a.name() + "'");
    out[a.name()] = &a;
  }
  return out;
}
std::vector<std::int64_t> ints(const Attributes& attrs, const std::string& key, std::vector<std::int64_t> fallback) {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  return {it->second->ints().begin(), it->second->ints().end()};
}
std::int64_t integer(const Attributes& attrs, const std::string& key, std::int64_t fallback) {
  auto it = attrs.find(key);
  return it == attrs.end() ? fallback : it->second->i();
}
void check_auto_pad(const onnx::NodeProto& node, const Attributes& attrs) {
  auto it = attrs.find("auto_pad");
  if (it != attrs.end() && it->second->s() != "NOTSET") fail(node, "auto_pad '" + it->second->s() + "' not supported");
}

std::vector<double> per_channel(const onnx::NodeProto& node, const Constant& c, int channels) {
  if (c.size() == 1) return std::vector<double>(channels, c.values[0]);
  std::int64_t non_unit = 0;
  for (auto d : c.dims)
    if (d != 1) ++non_unit;
  const bool channel_axis_ok = c.dims.size() <= 3 ? c.dims.size() >= 1 && c.dims[0] == channels
                                                  : c.dims.size() == 4 && c.dims[1] == channels;
  if (non_unit != 1 || static_cast<int>(c.size()) != channels || !channel_axis_ok)
    fail(node, "constant operand is not per-channel for " + std::to_string(channels) + " channels");
  return c.values;
}

}  // namespace cryptounet::nn::onnx_import
