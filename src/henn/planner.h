// The level planner: from the model and the tile size, count the levels, choose the ring degree N and the prime
// chain under the 128-bit security bound, the key-switching digit size (smallest Galois keys), the batch layout and
// the rotation steps that need Galois keys. Refuses, with the numbers, a model that cannot fit.
//
// N is the smallest ring from 2^13 to 2^17 whose bound holds Q and at least one special prime and whose N/2 slots
// hold one tile: a deeper network (more levels) or a larger tile moves to the next ring, which doubles the slots
// (twice the tiles per ciphertext, docs/ENCODING.md) and roughly doubles the 128-bit bound.
#pragma once

#include "ckks/params.h"
#include "henn/layer_options.h"
#include "henn/layout.h"
#include "nn/model.h"

#include <string>
#include <vector>

namespace cryptounet::henn {

struct PlanOptions {
  int log_n = 0;         // 0: the smallest ring that fits (and holds at least one tile)
  int scale_bits = kDefaultScaleBits;  // scaling primes (layer_options.h places every scale below 2^scale_bits)
  // q_0, the prime the result is decrypted modulo: logits at 2^(scale_bits - 6) need |logit| < 2^(base_bits -
  // scale_bits + 5) (2^15 with the defaults). Below 2^50 its limb runs on the IFMA kernels like the others.
  int base_bits = 50;
  // Special primes of hybrid key switching: below 2^50, the NTT and the multiply-accumulates of key switching run
  // on the 52-bit IFMA multipliers (ckks/ntt_ifma.cpp), 3-4x the 64-bit scalar path.
  int special_bits = 50;
  int weight_bits = kDefaultWeightBits;  // integer weights round(w * 2^weight_bits)
};

struct InferencePlan {
  ckks::ParameterSpec spec;
  Layout layout;
  int levels = 0;                   // levels the network consumes = the input ciphertext's level
  std::vector<int> rotation_steps;  // Galois keys to generate
  // Per rotation step, the highest ciphertext level it is used at: its Galois key holds only q_0..q_level (and P).
  std::vector<int> rotation_levels;
  int relin_level = 0;  // the same for the relinearization key
  LayerOptions layer;
  double input_scale = 0;
  // The largest set of feature maps alive at once while one group of Layout::kMaxLanes input ciphertexts goes
  // through the network: every node output from its computation to its last reader, one ciphertext per channel
  // (per lane unless interleaved), 2 x (limbs at its level) x N x 8 bytes each.
  double feature_map_bytes_estimate = 0;
  // Why each smaller ring was passed over ("N=2^15: 970 bits of Q + 50 of P > bound 881"); empty when none was.
  std::string smaller_rings_refused;

  // Galois + relinearization key bytes: per key, digits x 2 x (limbs up to its level + P) x N x 8.
  double key_bytes_estimate() const;
  // Server memory of one inference: evaluation keys + feature maps (a lower bound: the layers' temporaries and the
  // process itself come on top; docs/MODEL.md compares it with measured peaks).
  double memory_bytes_estimate() const { return key_bytes_estimate() + feature_map_bytes_estimate; }
  std::string describe() const;
};

InferencePlan plan_inference(const nn::Model& model, int tile_height, int tile_width, const PlanOptions& options = {});

}  // namespace cryptounet::henn
