#include "henn/schedule.h"

#include <algorithm>
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
    ns.readers = consumers[i];
    ns.last_use = consumers[i].empty() ? -1 : consumers[i].back();
    const nn::Node& node = nodes[i];
    if (node.op == nn::Op::Input) continue;
    for (int in : node.inputs) ns.read_depth = std::max(ns.read_depth, s.nodes[in].levels_used);
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

std::map<int, int> Schedule::rotation_uses(const nn::Model& model, const Layout& layout) const {
  std::map<int, int> uses;
  auto add = [&](int step, int depth) {
    int r = ((step % layout.slots) + layout.slots) % layout.slots;
    if (r > layout.slots / 2) r -= layout.slots;
    if (r == 0) return;
    const auto [it, fresh] = uses.emplace(r, depth);
    if (!fresh) it->second = std::min(it->second, depth);
  };
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    const nn::Node& node = model.nodes[i];
    const int in_stride = nodes[node.inputs[0]].stride;
    const int depth = nodes[i].read_depth;
    if (is_linear(node.op)) {
      for (int step : linear_taps(node, layout, in_stride).steps) add(step, depth);
      // A merge rotates the lanes' rescaled pre-activations (one level down); a split rotates like the taps.
      const int lane_depth = nodes[i].lane_step == LaneStep::Merge ? depth + 1 : depth;
      for (int step : lane_rotation_steps(nodes[i].lane_step, node, layout)) add(step, lane_depth);
    } else if (node.op == nn::Op::AvgPool2x2) {
      add(in_stride, depth);
      add(in_stride * layout.width, depth);
    }
  }
  return uses;
}

std::vector<int> Schedule::rotation_steps(const nn::Model& model, const Layout& layout) const {
  std::vector<int> steps;
  for (const auto& [step, depth] : rotation_uses(model, layout)) steps.push_back(step);
  return steps;
}

std::vector<int> Schedule::rotation_depths(const nn::Model& model, const Layout& layout) const {
  std::vector<int> depths;
  for (const auto& [step, depth] : rotation_uses(model, layout)) depths.push_back(depth);
  return depths;
}

int Schedule::relinearization_depth() const {
  int depth = levels;
  for (const NodeSchedule& ns : nodes)
    if (ns.fused_activation) depth = std::min(depth, ns.read_depth + 1);  // the product follows the rescale
  return depth;
}

int Schedule::depth_needed_after(int map, int done) const {
  int depth = -1;
  for (int reader : nodes[map].readers)
    if (reader > done && (depth < 0 || nodes[reader].read_depth < depth)) depth = nodes[reader].read_depth;
  return depth;
}

}  // namespace cryptounet::henn
