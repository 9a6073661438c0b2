// What the encrypted network does at each model node, decided from the model alone: which convolutions carry the
// following quadratic activation (fused, no extra rotations), the stride of every feature map, where the lanes are
// merged and split (linear_layers.h, lane_step), the levels consumed along every path, and the rotation steps
// (Galois keys) the layers need.
#pragma once

#include "henn/layout.h"
#include "henn/linear_layers.h"
#include "nn/model.h"

#include <map>
#include <vector>

namespace cryptounet::henn {

struct NodeSchedule {
  bool fused_activation = false;  // this linear node also computes the next node's activation
  int stride = 1;                 // stride of the node's output on the layout
  bool interleaved = false;       // output interleaves the lanes (when several ciphertexts go through together)
  LaneStep lane_step = LaneStep::Keep;  // a linear node that merges or splits the lanes
  int levels_used = 0;            // levels consumed from the input to this node's output
  int read_depth = 0;             // levels consumed before this node reads its inputs (the deepest input's)
  std::vector<int> readers;       // the nodes reading this output, in order
  int last_use = -1;              // index of the last node reading this output (-1: the model output)
};

struct Schedule {
  std::vector<NodeSchedule> nodes;
  int levels = 0;  // levels the whole network consumes (= levels the input ciphertext needs)

  // Throws std::runtime_error naming the node for an op the encrypted path cannot evaluate.
  static Schedule create(const nn::Model& model);
  // Distinct nonzero left-rotation steps (normalized into (-slots/2, slots/2]) the network uses on this layout.
  std::vector<int> rotation_steps(const nn::Model& model, const Layout& layout) const;
  // For each of rotation_steps(), in the same order: the fewest levels consumed before a ciphertext is rotated by
  // it. Its Galois key needs only the primes of the levels up to `levels - depth` (key switching at level l reads
  // limbs 0..l and P), which makes the keys of the deep layers' steps smaller.
  std::vector<int> rotation_depths(const nn::Model& model, const Layout& layout) const;
  // The fewest levels consumed before a relinearization (the fused activations' products); `levels` if none.
  int relinearization_depth() const;
  // What node `map`'s output must keep once every node up to `done` has run: the levels consumed before the
  // highest level any later reader reads it at (a reader drops its inputs to its read_depth: a linear layer to its
  // lowest input, which is how a concatenated skip branch is aligned), or -1 when no later reader remains.
  int depth_needed_after(int map, int done) const;

 private:
  // Every rotation step (normalized) with the fewest levels consumed before a rotation by it.
  std::map<int, int> rotation_uses(const nn::Model& model, const Layout& layout) const;
};

}  // namespace cryptounet::henn
