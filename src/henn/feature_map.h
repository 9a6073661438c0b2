// A feature map on the Volley Revolver layout: a team of ciphertexts (one per channel, every ciphertext holding the
// channel for all images of the batch) at a common stride. `factor[c]` is a pending real multiplier of channel c
// (e.g. the 1/4 of average pooling) that the next linear layer folds into its integer weights, so it costs no level.
#pragma once

#include <vector>

namespace cryptounet::henn {

template <typename Value>
struct FeatureMap {
  std::vector<Value> channels;
  std::vector<double> factor;
  int stride = 1;

  int channel_count() const { return static_cast<int>(channels.size()); }
};

}  // namespace cryptounet::henn
