// Per-layer accuracy: compares a node's decoded maps with the plaintext reference activations (nn::forward) of every
// tile, at the valid positions only (debug mode of the demo, tests).
#pragma once

#include "henn/feature_map.h"
#include "henn/layout.h"
#include "nn/tensor.h"

#include <vector>

namespace cryptounet::henn {

// One map of a node with its channels decoded to slot vectors.
struct DecodedMap {
  std::vector<std::vector<double>> channels;
  std::vector<double> factor, offset;
  int stride = 1;
  int lanes = 1;
};

template <typename Value, typename Decode>
DecodedMap decode_map(const FeatureMap<Value>& map, Decode&& decode) {
  DecodedMap d{{}, map.factor, map.offset, map.stride, map.lanes};
  for (const Value& v : map.channels) d.channels.push_back(decode(v));
  return d;
}

// Max |factor * slot + offset - reference| over channels, tiles and valid positions. `maps` is a node's output for a
// group of input ciphertexts (one map per ciphertext, or one interleaved map); refs[ct][b] is the reference
// activation of the tile in block b of input ciphertext ct.
double max_abs_error(const Layout& layout, const std::vector<DecodedMap>& maps,
                     const std::vector<std::vector<const nn::Tensor*>>& refs);

}  // namespace cryptounet::henn
