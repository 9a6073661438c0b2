// Per-layer accuracy: compares a decoded feature map (slot vectors of its channels) with the plaintext reference
// activation (nn::forward) of every image of the batch, at the valid positions only.
#pragma once

#include "henn/layout.h"
#include "nn/tensor.h"

#include <vector>

namespace cryptounet::henn {

// Max |factor[c] * slot + offset[c] - reference| over all channels, images and valid positions of the stride-s grid.
double max_abs_error(const Layout& layout, const std::vector<std::vector<double>>& channel_slots, int stride,
                     const std::vector<double>& factor, const std::vector<double>& offset,
                     const std::vector<const nn::Tensor*>& reference_per_image);

}  // namespace cryptounet::henn
