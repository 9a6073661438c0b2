#include "henn/compare.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cryptounet::henn {

namespace {

double lane_error(const Layout& layout, const DecodedMap& map, int lane,
                  const std::vector<const nn::Tensor*>& refs) {
  double worst = 0.0;
  for (std::size_t b = 0; b < refs.size(); ++b) {
    const nn::Tensor& ref = *refs[b];
    if (ref.channels != static_cast<int>(map.channels.size()) || ref.height * map.stride != layout.height ||
        ref.width * map.stride != layout.width)
      throw std::invalid_argument("max_abs_error: reference shape does not match the feature map");
    for (int c = 0; c < ref.channels; ++c) {
      const auto plane = layout.unpack(map.channels[c], static_cast<int>(b), map.stride, lane);
      for (std::size_t k = 0; k < plane.size(); ++k)
        worst = std::max(worst,
                         std::abs(map.factor[c] * plane[k] + map.offset[c] - ref.data[c * ref.plane_size() + k]));
    }
  }
  return worst;
}

}  // namespace

double max_abs_error(const Layout& layout, const std::vector<DecodedMap>& maps,
                     const std::vector<std::vector<const nn::Tensor*>>& refs) {
  double worst = 0.0;
  for (std::size_t k = 0; k < maps.size(); ++k) {
    if (maps[k].lanes == 1) {
      if (maps.size() != refs.size()) throw std::invalid_argument("max_abs_error: one map per ciphertext expected");
      worst = std::max(worst, lane_error(layout, maps[k], 0, refs[k]));
    } else {
      if (maps.size() != 1 || static_cast<std::size_t>(maps[k].lanes) != refs.size())
        throw std::invalid_argument("max_abs_error: interleaved map does not match the ciphertext count");
      for (int lane = 0; lane < maps[k].lanes; ++lane) worst = std::max(worst, lane_error(layout, maps[k], lane, refs[lane]));
    }
  }
  return worst;
}

}  // namespace cryptounet::henn
