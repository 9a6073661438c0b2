// A feature map on the Volley Revolver layout: a team of ciphertexts (one per channel, every ciphertext holding the
// channel for all images of the batch) at a common stride. Channel c's true value at a valid position is
// factor[c] * slot + offset[c]: the pending affine map (the 1/4 of average pooling, the sign and constant of a
// completed-square activation) is folded into the next linear layer's weights and bias, so it costs no level.
#pragma once

#include <vector>

namespace cryptounet::henn {

template <typename Value>
struct FeatureMap {
  std::vector<Value> channels;
  std::vector<double> factor;
  std::vector<double> offset;
  int stride = 1;
  int lanes = 1;  // interleaved ciphertext lanes (Layout::lane_offset), > 1 only at stride >= 2

  int channel_count() const { return static_cast<int>(channels.size()); }
};

}  // namespace cryptounet::henn
