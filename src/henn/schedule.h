// What the encrypted network does at each model node, decided from the model alone: which convolutions carry the
// following quadratic activation (fused, no extra rotations), the stride of every feature map, the levels consumed
// along every path, and the rotation steps (Galois keys) the layers need.
#pragma once

#include "henn/layer_options.h"
#include "henn/layers.h"
#include "henn/layout.h"
#include "nn/model.h"

#include <vector>

namespace cryptounet::henn {

struct NodeSchedule {
  bool fused_into_next = false;  // a linear node whose quadratic (the only consumer) it computes
  bool fused_activation = false; // this linear node also computes the next node's activation
  int stride = 1;                // stride of the node's output on the layout
  int depth = 0;                 // levels consumed from the input to this node's output
  int last_use = -1;             // index of the last node reading this output (-1: the model output)
};

struct Schedule {
  std::vector<NodeSchedule> nodes;
  int depth = 0;  // levels the whole network consumes (= levels the input ciphertext needs)

  // Throws std::runtime_error naming the node for an op the encrypted path cannot evaluate.
  static Schedule create(const nn::Model& model);
  // Distinct nonzero left-rotation steps (normalized into (-slots/2, slots/2]) the network uses on this layout.
  std::vector<int> rotation_steps(const nn::Model& model, const Layout& layout) const;
};

// The taps and weights of a linear node (Conv2d or ConvTranspose2d) reading a map at `in_stride` with `lanes`
// interleaved lanes (the output keeps them).
LinearTaps linear_taps(const nn::Node& node, const Layout& layout, int in_stride, int lanes = 1);
// A ConvTranspose2d from an interleaved stride-2 map to lane `lane`'s own stride-1 map: output phase (a, b) reads
// the input lane_offset(lane) - (a*W + b) slots further.
LinearTaps split_taps(const nn::Node& node, const Layout& layout, int lane);
LinearWeights linear_weights(const nn::Node& node, const nn::Node* fused_activation);

}  // namespace cryptounet::henn
