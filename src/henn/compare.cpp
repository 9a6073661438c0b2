#include "henn/compare.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cryptounet::henn {

double max_abs_error(const Layout& layout, const std::vector<std::vector<double>>& channel_slots, int stride,
                     const std::vector<double>& factor, const std::vector<double>& offset,
                     const std::vector<const nn::Tensor*>& reference_per_image) {
  double worst = 0.0;
  for (std::size_t b = 0; b < reference_per_image.size(); ++b) {
    const nn::Tensor& ref = *reference_per_image[b];
    if (ref.channels != static_cast<int>(channel_slots.size()) || ref.height * stride != layout.height ||
        ref.width * stride != layout.width)
      throw std::invalid_argument("max_abs_error: reference shape does not match the feature map");
    for (int c = 0; c < ref.channels; ++c) {
      const std::vector<double> plane = layout.unpack(channel_slots[c], static_cast<int>(b), stride);
      for (std::size_t k = 0; k < plane.size(); ++k)
        worst = std::max(worst, std::abs(factor[c] * plane[k] + offset[c] - ref.data[c * ref.plane_size() + k]));
    }
  }
  return worst;
}

}  // namespace cryptounet::henn
