#include "henn/schedule.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

namespace cryptounet::henn {

namespace {

[[noreturn]] void unsupported(const nn::Node& n, const std::string& why) {
  throw std::runtime_error(std::string("encrypted inference: node '") + n.name + "' (" + nn::op_name(n.op) +
                           "): " + why);
}

bool is_linear(nn::Op op) { return op == nn::Op::Conv2d || op == nn::Op::ConvTranspose2d; }

}  // namespace

Schedule Schedule::create(const nn::Model& model) {
  model.validate();
  const auto& nodes = model.nodes;
  const int n = static_cast<int>(nodes.size());
  std::vector<std::vector<int>> consumers(n);
  for (int i = 0; i < n; ++i)
    for (int in : nodes[i].inputs) consumers[in].push_back(i);

  Schedule s;
  s.nodes.resize(n);
  for (int i = 0; i < n; ++i) {
    NodeSchedule& ns = s.nodes[i];
    ns.last_use = consumers[i].empty() ? -1 : *std::max_element(consumers[i].begin(), consumers[i].end());
    const nn::Node& node = nodes[i];
    if (node.op == nn::Op::Input) continue;
    const NodeSchedule& in0 = s.nodes[node.inputs[0]];
    switch (node.op) {
      case nn::Op::Conv2d:
      case nn::Op::ConvTranspose2d: {
        const bool fuse = consumers[i].size() == 1 && nodes[consumers[i][0]].op == nn::Op::Quadratic;
        ns.fused_activation = fuse;
        ns.stride = node.op == nn::Op::Conv2d ? in0.stride : in0.stride / 2;
        if (ns.stride < 1) unsupported(node, "upsampling above the input resolution");
        ns.depth = in0.depth + (fuse ? 2 : 1);
        break;
      }
      case nn::Op::Quadratic:
        if (!is_linear(nodes[node.inputs[0]].op) || !in0.fused_activation)
          unsupported(node, "a quadratic activation or per-channel affine map (batch norm) must directly follow a convolution that "
                            "feeds only it");
        s.nodes[node.inputs[0]].fused_into_next = true;
        ns.stride = in0.stride;
        ns.depth = in0.depth;
        break;
      case nn::Op::AvgPool2x2:
        ns.stride = in0.stride * 2;
        ns.depth = in0.depth;
        break;
      case nn::Op::Concat:
      case nn::Op::Add: {
        const NodeSchedule& in1 = s.nodes[node.inputs[1]];
        if (in0.stride != in1.stride) unsupported(node, "inputs at different resolutions");
        if (node.op == nn::Op::Add && in0.depth != in1.depth)
          unsupported(node, "a residual sum of maps that used different numbers of levels (" +
                                std::to_string(in0.depth) + " and " + std::to_string(in1.depth) +
                                ") is not supported encrypted: add maps of equal depth");
        ns.stride = in0.stride;
        ns.depth = std::max(in0.depth, in1.depth);
        break;
      }
      case nn::Op::Relu:
        unsupported(node, "not HE-friendly: replace it with x*x or a learnable quadratic a*x^2 + b*x");
      case nn::Op::MaxPool2x2:
        unsupported(node, "not HE-friendly: replace it with AvgPool2d(2)");
      case nn::Op::Input:
        break;
    }
    s.depth = std::max(s.depth, ns.depth);
  }
  if (s.nodes.back().stride != 1) unsupported(nodes.back(), "the output is not at the input resolution");
  return s;
}

std::vector<int> Schedule::rotation_steps(const nn::Model& model, const Layout& layout) const {
  std::set<int> steps;
  auto add = [&](int step) {
    int r = ((step % layout.slots) + layout.slots) % layout.slots;
    if (r > layout.slots / 2) r -= layout.slots;
    if (r != 0) steps.insert(r);
  };
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    const nn::Node& node = model.nodes[i];
    const int in_stride = nodes[node.inputs[0]].stride;
    if (is_linear(node.op)) {
      for (int step : linear_taps(node, layout, in_stride).steps) add(step);
      // Lanes: merging into lanes rotates outputs by -lane_offset; splitting reads lane_offset - (a*W + b).
      if (in_stride == 2 && node.op == nn::Op::Conv2d)
        for (int lane = 1; lane < Layout::kMaxLanes; ++lane) add(-layout.lane_offset(lane));
      if (in_stride == 2 && node.op == nn::Op::ConvTranspose2d)
        for (int lane = 0; lane < Layout::kMaxLanes; ++lane)
          for (int step : split_taps(node, layout, lane).steps) add(step);
    } else if (node.op == nn::Op::AvgPool2x2) {
      add(in_stride);
      add(in_stride * layout.width);
    }
  }
  return {steps.begin(), steps.end()};
}

LinearTaps linear_taps(const nn::Node& node, const Layout& layout, int in_stride, int lanes) {
  LinearTaps t;
  t.out_lanes = lanes;
  if (node.op == nn::Op::Conv2d) {
    t.out_stride = in_stride;
    const int r = node.kernel / 2;
    for (int dy = -r; dy <= r; ++dy)
      for (int dx = -r; dx <= r; ++dx) {
        t.steps.push_back(layout.tap_step(in_stride, dy, dx));
        t.masks.push_back(layout.conv_tap_mask(in_stride, dy, dx, lanes));
      }
  } else if (node.op == nn::Op::ConvTranspose2d) {
    // Output phase (a, b) at stride s/2 reads input (i, j) from s/2*(a*W + b) slots before it.
    t.out_stride = in_stride / 2;
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        t.steps.push_back(-t.out_stride * (a * layout.width + b));
        t.masks.push_back(layout.phase_mask(in_stride, a, b, lanes));
      }
  } else {
    throw std::invalid_argument("linear_taps: not a linear node");
  }
  return t;
}

LinearTaps split_taps(const nn::Node& node, const Layout& layout, int lane) {
  if (node.op != nn::Op::ConvTranspose2d) throw std::invalid_argument("split_taps: not a transposed convolution");
  LinearTaps t;
  t.out_stride = 1;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      t.steps.push_back(layout.lane_offset(lane) - (a * layout.width + b));
      t.masks.push_back(layout.phase_mask(2, a, b));
    }
  return t;
}

LinearWeights linear_weights(const nn::Node& node, const nn::Node* activation) {
  LinearWeights w;
  w.in_channels = node.in_channels;
  w.out_channels = node.channels;
  w.bias = node.bias;
  if (activation) {
    w.quad_a = &activation->a;
    w.quad_b = &activation->b;
    if (!activation->c.empty()) w.quad_c = &activation->c;
  }
  if (node.op == nn::Op::Conv2d) {
    const int k = node.kernel;
    w.taps = k * k;
    w.weight.resize(static_cast<std::size_t>(w.out_channels) * w.in_channels * w.taps);
    for (int co = 0; co < w.out_channels; ++co)
      for (int ci = 0; ci < w.in_channels; ++ci)
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx)
            w.weight[(static_cast<std::size_t>(co) * w.in_channels + ci) * w.taps + ky * k + kx] =
                node.conv_weight(co, ci, ky, kx);
  } else {
    w.taps = 4;
    w.weight.resize(static_cast<std::size_t>(w.out_channels) * w.in_channels * 4);
    for (int co = 0; co < w.out_channels; ++co)
      for (int ci = 0; ci < w.in_channels; ++ci)
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b)
            w.weight[(static_cast<std::size_t>(co) * w.in_channels + ci) * 4 + a * 2 + b] =
                node.conv_transpose_weight(ci, co, a, b);
  }
  return w;
}

}  // namespace cryptounet::henn
