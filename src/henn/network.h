// Runs a whole model on the layout, node by node, with any backend (the same code for slot vectors and ciphertexts).
#pragma once

#include "henn/feature_map.h"
#include "henn/layer_options.h"
#include "henn/layers.h"
#include "henn/layout.h"
#include "henn/schedule.h"
#include "nn/model.h"

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

namespace cryptounet::henn {

// Called after each evaluated node (a fused convolution is reported with its activation node).
template <typename Value>
using NodeCallback = std::function<void(int node_index, double seconds, const FeatureMap<Value>& output)>;

// `input` holds the 1-channel input of every image of the batch at stride 1. Returns the logit map (stride 1).
template <typename Backend>
FeatureMap<typename Backend::Value> run_network(const Backend& be, const nn::Model& model, const Layout& layout,
                                                typename Backend::Value input, const LayerOptions& opt,
                                                const NodeCallback<typename Backend::Value>& on_node = {}) {
  using Value = typename Backend::Value;
  const Schedule schedule = Schedule::create(model);
  if (model.input().channels != 1) throw std::invalid_argument("encrypted inference: the model input must be 1 channel");
  if (Backend::level(input) < schedule.depth)
    throw std::invalid_argument("encrypted inference: the model needs " + std::to_string(schedule.depth) +
                                " levels, the input ciphertext has " + std::to_string(Backend::level(input)));
  const int n = static_cast<int>(model.nodes.size());
  std::vector<std::optional<FeatureMap<Value>>> maps(n);
  maps[0] = FeatureMap<Value>{{std::move(input)}, {1.0}, {0.0}, 1};
  for (int i = 1; i < n; ++i) {
    const nn::Node& node = model.nodes[i];
    const NodeSchedule& ns = schedule.nodes[i];
    if (node.op == nn::Op::Quadratic) continue;  // computed by the convolution before it
    const auto start = std::chrono::steady_clock::now();
    const FeatureMap<Value>& in0 = *maps[node.inputs[0]];
    int out_index = i;
    switch (node.op) {
      case nn::Op::Conv2d:
      case nn::Op::ConvTranspose2d: {
        const nn::Node* act = ns.fused_activation ? &model.nodes[i + 1] : nullptr;
        if (act && (act->op != nn::Op::Quadratic || act->inputs[0] != i))
          throw std::runtime_error("encrypted inference: the activation of node '" + node.name +
                                   "' must be the next node");
        maps[i] = linear_layer(be, in0, linear_taps(node, layout, in0.stride), linear_weights(node, act), opt);
        if (act) {
          maps[i + 1] = std::move(maps[i]);
          maps[i].reset();
          out_index = i + 1;
        }
        break;
      }
      case nn::Op::AvgPool2x2:
        maps[i] = avg_pool(be, in0, layout.width);
        break;
      case nn::Op::Concat:
        maps[i] = concat(in0, *maps[node.inputs[1]]);
        break;
      case nn::Op::Add:
        maps[i] = add(be, in0, *maps[node.inputs[1]]);
        break;
      default:
        throw std::runtime_error(std::string("encrypted inference: unsupported node ") + nn::op_name(node.op));
    }
    // Free every map whose last reader has run (peak memory = live maps + one layer's accumulators).
    for (int in : node.inputs)
      if (schedule.nodes[in].last_use <= out_index && in != n - 1) maps[in].reset();
    if (on_node) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      on_node(out_index, secs, *maps[out_index]);
    }
  }
  FeatureMap<Value> out = std::move(*maps[n - 1]);
  if (out.channel_count() != 1 || out.stride != 1 || out.factor[0] != 1.0 || out.offset[0] != 0.0)
    throw std::runtime_error("encrypted inference: the output is not a 1-channel full-resolution map");
  return out;
}

}  // namespace cryptounet::henn
