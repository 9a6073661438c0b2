#include "nn/model.h"

#include <stdexcept>
#include <string>

namespace cryptounet::nn {

const char* op_name(Op op) {
  switch (op) {
    case Op::Input: return "Input";
    case Op::Conv2d: return "Conv2d";
    case Op::ConvTranspose2d: return "ConvTranspose2d";
    case Op::StridedConv2x2: return "StridedConv2x2";
    case Op::AvgPool2x2: return "AvgPool2x2";
    case Op::Quadratic: return "Quadratic";
    case Op::Concat: return "Concat";
    case Op::Add: return "Add";
    case Op::Relu: return "Relu";
    case Op::MaxPool2x2: return "MaxPool2x2";
  }
  return "?";
}

bool halves_resolution(Op op) { return op == Op::AvgPool2x2 || op == Op::MaxPool2x2 || op == Op::StridedConv2x2; }

bool doubles_resolution(Op op) { return op == Op::ConvTranspose2d; }

int Model::index_of(const std::string& node_name) const {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == node_name) return static_cast<int>(i);
  return -1;
}

namespace {

[[noreturn]] void fail(const Node& node, const std::string& what) {
  throw std::runtime_error("model node '" + node.name + "' (" + op_name(node.op) + "): " + what);
}

std::size_t expected_inputs(Op op) {
  switch (op) {
    case Op::Input: return 0;
    case Op::Concat:
    case Op::Add: return 2;
    default: return 1;
  }
}

}  // namespace

void Model::validate() const {
  if (nodes.empty()) throw std::runtime_error("model '" + name + "' has no nodes");
  if (nodes.front().op != Op::Input) throw std::runtime_error("model '" + name + "': node 0 must be the input");
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (n.op == Op::Input && i != 0) fail(n, "a second input");
    if (n.inputs.size() != expected_inputs(n.op)) fail(n, "wrong number of inputs");
    for (int in : n.inputs)
      if (in < 0 || static_cast<std::size_t>(in) >= i) fail(n, "input is not an earlier node");
    auto in_ch = [&](int k) { return nodes[n.inputs[k]].channels; };
    if (n.channels <= 0) fail(n, "no channels");
    switch (n.op) {
      case Op::Input: break;
      case Op::Conv2d:
        if (n.kernel < 1 || n.kernel % 2 == 0) fail(n, "kernel must be odd");
        if (n.padding != n.kernel / 2) fail(n, "padding must be kernel/2 (same padding)");
        if (n.in_channels != in_ch(0)) fail(n, "input channels do not match the weight");
        if (n.weight.size() != static_cast<std::size_t>(n.channels) * n.in_channels * n.kernel * n.kernel)
          fail(n, "weight size mismatch");
        if (n.bias.size() != static_cast<std::size_t>(n.channels)) fail(n, "bias size mismatch");
        break;
      case Op::StridedConv2x2:
      case Op::ConvTranspose2d:
        if (n.kernel != 2) fail(n, "kernel must be 2");
        if (n.in_channels != in_ch(0)) fail(n, "input channels do not match the weight");
        if (n.weight.size() != static_cast<std::size_t>(n.channels) * n.in_channels * 4) fail(n, "weight size mismatch");
        if (n.bias.size() != static_cast<std::size_t>(n.channels)) fail(n, "bias size mismatch");
        break;
      case Op::Quadratic:
        if (n.channels != in_ch(0)) fail(n, "channel count changes");
        if (n.a.size() != static_cast<std::size_t>(n.channels) || n.b.size() != n.a.size() ||
            (!n.c.empty() && n.c.size() != n.a.size()))
          fail(n, "coefficient size mismatch");
        break;
      case Op::Concat:
        if (n.channels != in_ch(0) + in_ch(1)) fail(n, "channel count is not the sum of the inputs");
        break;
      case Op::Add:
        if (n.channels != in_ch(0) || n.channels != in_ch(1)) fail(n, "inputs differ in channels");
        break;
      case Op::AvgPool2x2:
      case Op::MaxPool2x2:
      case Op::Relu:
        if (n.channels != in_ch(0)) fail(n, "channel count changes");
        break;
    }
  }
}

int Model::pooling_depth() const {
  // Depth along the longest path: a node's scale = 2^(downsamplings on the way) / 2^(upsamplings).
  std::vector<int> down(nodes.size(), 0);
  int deepest = 0;
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    int d = down[n.inputs[0]];
    if (halves_resolution(n.op)) ++d;
    if (doubles_resolution(n.op)) --d;
    down[i] = d;
    if (d > deepest) deepest = d;
  }
  return deepest;
}

}  // namespace cryptounet::nn
