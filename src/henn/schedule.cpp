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

bool is_affine(const nn::Node& n) {
  return std::all_of(n.a.begin(), n.a.end(), [](double a) { return a == 0.0; });
}

// Where a pending per-channel factor and offset can go: into a linear layer's weights, or carried along by a
// concatenation or a pooling to one.
bool carries_pending(nn::Op op) { return is_linear(op) || op == nn::Op::Concat || op == nn::Op::AvgPool2x2; }

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
      case nn::Op::StridedConv2x2:
      case nn::Op::ConvTranspose2d: {
        const bool fuse = consumers[i].size() == 1 && nodes[consumers[i][0]].op == nn::Op::Quadratic;
        ns.fused_activation = fuse;
        ns.stride = output_stride(node.op, in0.stride);
        if (ns.stride < 1) unsupported(node, "upsampling above the input resolution");
        ns.lane_step = lane_step(node.op, in0.stride, in0.interleaved);
        ns.interleaved = ns.lane_step == LaneStep::Merge || (in0.interleaved && ns.lane_step != LaneStep::Split);
        ns.levels_used = in0.levels_used + (fuse ? 2 : 1);
        break;
      }
      case nn::Op::Quadratic:
        // A per-channel affine map with no convolution to fold into (a batch norm after a concatenation) stays
        // pending (FeatureMap factor and offset, no level) until the next linear layer folds it into its weights.
        if (!in0.fused_activation) {
          if (!is_affine(node))
            unsupported(node, "a quadratic activation must directly follow a convolution that feeds only it");
          if (consumers[i].empty() ||
              !std::all_of(consumers[i].begin(), consumers[i].end(),
                           [&](int c) { return carries_pending(nodes[c].op); }))
            unsupported(node, "a per-channel affine map (batch norm) that does not follow a convolution must feed "
                              "convolutions (it folds into their weights), concatenations or poolings");
        }
        ns.stride = in0.stride;
        ns.interleaved = in0.interleaved;
        ns.levels_used = in0.levels_used;
        break;
      case nn::Op::AvgPool2x2:
        ns.stride = in0.stride * 2;
        ns.interleaved = in0.interleaved;
        ns.levels_used = in0.levels_used;
        break;
      case nn::Op::Concat:
      case nn::Op::Add: {
        const NodeSchedule& in1 = s.nodes[node.inputs[1]];
        if (in0.stride != in1.stride || in0.interleaved != in1.interleaved)
          unsupported(node, "inputs at different resolutions or lane interleavings");
        if (node.op == nn::Op::Add && in0.levels_used != in1.levels_used)
          unsupported(node, "a residual sum of maps that used different numbers of levels (" +
                                std::to_string(in0.levels_used) + " and " + std::to_string(in1.levels_used) +
                                ") is not supported encrypted: add maps of equal depth");
        ns.stride = in0.stride;
        ns.interleaved = in0.interleaved;
        ns.levels_used = std::max(in0.levels_used, in1.levels_used);
        break;
      }
      case nn::Op::Relu:
        unsupported(node, "not HE-friendly: replace it with x*x or a learnable quadratic a*x^2 + b*x");
      case nn::Op::MaxPool2x2:
        unsupported(node, "not HE-friendly: replace it with AvgPool2d(2)");
      case nn::Op::Input:
        break;
    }
    s.levels = std::max(s.levels, ns.levels_used);
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
      for (int step : lane_rotation_steps(nodes[i].lane_step, node, layout)) add(step);
    } else if (node.op == nn::Op::AvgPool2x2) {
      add(in_stride);
      add(in_stride * layout.width);
    }
  }
  return {steps.begin(), steps.end()};
}

}  // namespace cryptounet::henn
