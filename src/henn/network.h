// Runs a whole model on the layout, node by node, with any LayerBackend (the same code for slot vectors and
// ciphertexts). Up to Layout::kMaxLanes lanes go through together, each a team of C input ciphertexts (one per input
// channel, same slot layout: the first convolution sums over them like any multi-channel layer); the lane rule
// (lane_step in linear_layers.h) interleaves the lanes into one map at low resolution and splits them again, so every
// low-resolution layer runs once for all of them. Each lane comes back as K ciphertexts, one per output channel.
#pragma once

#include "henn/backend.h"
#include "henn/feature_map.h"
#include "henn/layer_options.h"
#include "henn/layers.h"
#include "henn/layout.h"
#include "henn/linear_layers.h"
#include "henn/schedule.h"
#include "nn/model.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

namespace cryptounet::henn {

// A node's output: one map per input ciphertext, or one interleaved map (FeatureMap::lanes > 1).
template <typename Value>
using LaneMaps = std::vector<FeatureMap<Value>>;

// Called after each evaluated node (a fused convolution is reported with its activation node).
template <typename Value>
using NodeCallback = std::function<void(int node_index, double seconds, const LaneMaps<Value>& output)>;

// `inputs` hold the C-channel input of every lane at stride 1, lane by lane (inputs[lane * C + c], C =
// model.input().channels, at most Layout::kMaxLanes lanes). Returns the K logit maps of every lane at stride 1, lane
// by lane (outputs[lane * K + k], K = model.output().channels).
template <LayerBackend Backend>
std::vector<typename Backend::Value> run_network(const Backend& be, const nn::Model& model, const Layout& layout,
                                                 std::vector<typename Backend::Value> inputs,
                                                 const LayerOptions& opt,
                                                 const NodeCallback<typename Backend::Value>& on_node = {}) {
  using Value = typename Backend::Value;
  const Schedule schedule = Schedule::create(model);
  const std::size_t in_channels = static_cast<std::size_t>(model.input().channels);
  if (inputs.empty() || inputs.size() % in_channels != 0 ||
      inputs.size() > static_cast<std::size_t>(Layout::kMaxLanes) * in_channels)
    throw std::invalid_argument("encrypted inference: 1 to 4 lanes of " + std::to_string(in_channels) +
                                " input ciphertexts at a time, got " + std::to_string(inputs.size()));
  for (const Value& in : inputs)
    if (Backend::level(in) < schedule.levels)
      throw std::invalid_argument("encrypted inference: the model needs " + std::to_string(schedule.levels) +
                                  " levels, the input ciphertext has " + std::to_string(Backend::level(in)));
  const int n = static_cast<int>(model.nodes.size());
  const std::size_t lane_count = inputs.size() / in_channels;
  std::vector<std::optional<LaneMaps<Value>>> maps(n);
  maps[0].emplace();
  for (std::size_t lane = 0; lane < lane_count; ++lane) {
    FeatureMap<Value> team{{}, std::vector<double>(in_channels, 1.0), std::vector<double>(in_channels, 0.0), 1, 1};
    for (std::size_t c = 0; c < in_channels; ++c) team.channels.push_back(std::move(inputs[lane * in_channels + c]));
    maps[0]->push_back(std::move(team));
  }

  // Every map keeps only the limbs its later readers read (a skip branch waits for its concat at the level the
  // concat's convolution drops it to anyway; dropping limbs is exact) and is freed after its last reader, lane by
  // lane where a node reads lane k only for output lane k.
  int top = Backend::level(maps[0]->front().channels.front());
  for (const auto& lane : *maps[0])
    for (const Value& v : lane.channels) top = std::min(top, Backend::level(v));
  auto settle_lane = [&](int m, int done, std::size_t k) {
    if (m == n - 1 || !maps[m]) return;
    FeatureMap<Value>& lane = (*maps[m])[k];
    const int depth = schedule.depth_needed_after(m, done);
    if (depth < 0) {
      lane.channels = {};
      return;
    }
    for (Value& v : lane.channels)
      if (Backend::level(v) > top - depth) v = be.drop_to_level(v, top - depth);
  };
  auto settle = [&](int m, int done) {
    if (m == n - 1 || !maps[m]) return;
    if (schedule.depth_needed_after(m, done) < 0) {
      maps[m].reset();
      return;
    }
    for (std::size_t k = 0; k < maps[m]->size(); ++k) settle_lane(m, done, k);
  };
  // The lanes of input m for a node that consumes them: moved out when no later node reads them.
  auto take = [&](int m, int done) {
    if (m != n - 1 && schedule.depth_needed_after(m, done) < 0) return std::move(*maps[m]);
    return LaneMaps<Value>(*maps[m]);
  };

  for (int i = 1; i < n; ++i) {
    const nn::Node& node = model.nodes[i];
    const NodeSchedule& ns = schedule.nodes[i];
    if (node.op == nn::Op::Quadratic && schedule.nodes[node.inputs[0]].fused_activation)
      continue;  // computed by the convolution before it
    const auto start = std::chrono::steady_clock::now();
    LaneMaps<Value>& in0 = *maps[node.inputs[0]];
    // One output lane per input lane; each input's lane k is settled as soon as output lane k exists.
    auto each = [&](auto&& f) {
      LaneMaps<Value> out;
      for (std::size_t k = 0; k < in0.size(); ++k) {
        out.push_back(f(k));
        for (int in : node.inputs) settle_lane(in, i, k);
      }
      return out;
    };
    auto second = [&]() -> LaneMaps<Value>& {
      LaneMaps<Value>& in1 = *maps[node.inputs[1]];
      if (in1.size() != in0.size()) throw std::runtime_error("encrypted inference: inputs differ in lanes");
      return in1;
    };
    int out_index = i;
    switch (node.op) {
      case nn::Op::Conv2d:
      case nn::Op::StridedConv2x2:
      case nn::Op::ConvTranspose2d: {
        const nn::Node* act = ns.fused_activation ? &model.nodes[i + 1] : nullptr;
        if (act && (act->op != nn::Op::Quadratic || act->inputs[0] != i))
          throw std::runtime_error("encrypted inference: the activation of node '" + node.name +
                                   "' must be the next node");
        const LinearWeights lw = linear_weights(node, act);
        const FeatureMap<Value>& first = in0.front();
        const LaneStep lanes = lane_step(node.op, first.stride, first.lanes > 1);
        if (lanes == LaneStep::Merge && in0.size() > 1) {
          const LinearTaps taps = linear_taps(node, layout, first.stride);
          maps[i] = LaneMaps<Value>{merge_lanes(be, take(node.inputs[0], i), taps, lw, opt, layout)};
        } else if (lanes == LaneStep::Split) {
          maps[i] = split_lanes(be, first, node, lw, opt, layout);
        } else {
          maps[i] = each([&](std::size_t k) {
            return linear_layer(be, in0[k], linear_taps(node, layout, in0[k].stride, in0[k].lanes), lw, opt);
          });
        }
        if (act) {
          maps[i + 1] = std::move(maps[i]);
          maps[i].reset();
          out_index = i + 1;
        }
        break;
      }
      case nn::Op::AvgPool2x2:
        maps[i] = each([&](std::size_t k) { return avg_pool(be, in0[k], layout.width); });
        break;
      case nn::Op::Quadratic:  // a per-channel affine map (Schedule): pending for the next linear layer
        maps[i] = each([&](std::size_t k) { return scale_shift(in0[k], node.b, node.c); });
        break;
      case nn::Op::Concat: {
        LaneMaps<Value>& in1 = second();
        const bool last0 = schedule.depth_needed_after(node.inputs[0], i) < 0;
        const bool last1 = schedule.depth_needed_after(node.inputs[1], i) < 0 && node.inputs[1] != node.inputs[0];
        maps[i] = each([&](std::size_t k) {
          return concat(last0 ? std::move(in0[k]) : FeatureMap<Value>(in0[k]),
                        last1 ? std::move(in1[k]) : FeatureMap<Value>(in1[k]));
        });
        break;
      }
      case nn::Op::Add: {
        const LaneMaps<Value>& in1 = second();
        maps[i] = each([&](std::size_t k) { return add(be, in0[k], in1[k]); });
        break;
      }
      default:
        throw std::runtime_error(std::string("encrypted inference: unsupported node ") + nn::op_name(node.op));
    }
    for (int in : node.inputs) settle(in, i);
    if (!schedule.nodes[out_index].readers.empty()) settle(out_index, out_index);
    if (on_node) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      on_node(out_index, secs, *maps[out_index]);
    }
  }
  std::vector<Value> outputs;
  if (maps[n - 1]->size() != lane_count) throw std::runtime_error("encrypted inference: lanes were not split back");
  for (FeatureMap<Value>& out : *maps[n - 1]) {
    const bool pending = std::any_of(out.factor.begin(), out.factor.end(), [](double f) { return f != 1.0; }) ||
                         std::any_of(out.offset.begin(), out.offset.end(), [](double o) { return o != 0.0; });
    if (out.channel_count() != model.output().channels || out.stride != 1 || out.lanes != 1 || pending)
      throw std::runtime_error("encrypted inference: the output is not a full-resolution logit map");
    for (Value& channel : out.channels) outputs.push_back(std::move(channel));
  }
  return outputs;
}

}  // namespace cryptounet::henn
