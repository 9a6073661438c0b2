#include "henn/layout.h"

#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace cryptounet::henn {

int Layout::block_size(int height, int width) {
  if (height <= 0 || width <= 0) throw std::invalid_argument("layout: tile sides must be positive");
  const std::uint64_t block = std::bit_ceil(static_cast<std::uint64_t>(height) * static_cast<std::uint64_t>(width));
  if (block > (std::uint64_t{1} << 30))
    throw std::invalid_argument("layout: a " + std::to_string(height) + "x" + std::to_string(width) +
                                " tile does not fit a ciphertext");
  return static_cast<int>(block);
}

Layout Layout::create(int height, int width, int slots, int pooling_depth) {
  if (height <= 0 || width <= 0) throw std::invalid_argument("layout: tile sides must be positive");
  const int unit = 1 << pooling_depth;
  if (height % unit != 0 || width % unit != 0)
    throw std::invalid_argument("layout: tile " + std::to_string(height) + "x" + std::to_string(width) +
                                " is not divisible by 2^" + std::to_string(pooling_depth) + " (pooling depth)");
  Layout l;
  l.height = height;
  l.width = width;
  l.slots = slots;
  l.block = block_size(height, width);
  if (l.block > slots)
    throw std::invalid_argument("layout: a " + std::to_string(height) + "x" + std::to_string(width) +
                                " tile needs " + std::to_string(l.block) + " slots, the ciphertext has " +
                                std::to_string(slots));
  l.tiles_per_ciphertext = slots / l.block;
  return l;
}

std::vector<double> Layout::pack(const std::vector<const std::vector<double>*>& planes) const {
  if (static_cast<int>(planes.size()) > tiles_per_ciphertext)
    throw std::invalid_argument("layout: " + std::to_string(planes.size()) + " tiles, a ciphertext holds " +
                                std::to_string(tiles_per_ciphertext));
  std::vector<double> v(slots, 0.0);
  for (std::size_t b = 0; b < planes.size(); ++b) {
    if (planes[b]->size() != static_cast<std::size_t>(height) * width)
      throw std::invalid_argument("layout: tile size does not match the layout");
    for (int i = 0; i < height; ++i)
      for (int j = 0; j < width; ++j) v[slot(static_cast<int>(b), i, j)] = (*planes[b])[i * width + j];
  }
  return v;
}

std::vector<double> Layout::unpack(const std::vector<double>& slot_values, int tile, int stride, int lane) const {
  if (slot_values.size() < static_cast<std::size_t>(slots))
    throw std::invalid_argument("layout: slot vector is shorter than the layout");
  const int h = height / stride, w = width / stride;
  std::vector<double> out(static_cast<std::size_t>(h) * w);
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j) out[i * w + j] = slot_values[slot(tile, i, j, stride) + lane_offset(lane)];
  return out;
}

namespace {

void check_lanes(int stride, int lanes) {
  if (lanes < 1 || lanes > Layout::kMaxLanes || (lanes > 1 && stride < 2))
    throw std::invalid_argument("layout: " + std::to_string(lanes) + " lanes at stride " + std::to_string(stride));
}

}  // namespace

std::vector<double> Layout::grid_mask(int stride, int lanes) const {
  return grid_mask(stride, lanes, [](int, int) { return true; });
}

std::vector<double> Layout::grid_mask(int stride, int lanes, const std::function<bool(int, int)>& keep,
                                      int shift) const {
  check_lanes(stride, lanes);
  std::vector<double> m(slots, 0.0);
  const int h = height / stride, w = width / stride;
  for (int lane = 0; lane < lanes; ++lane)
    for (int b = 0; b < tiles_per_ciphertext; ++b)
      for (int i = 0; i < h; ++i)
        for (int j = 0; j < w; ++j)
          if (keep(i, j)) m[slot(b, i, j, stride) + lane_offset(lane) + shift] = 1.0;
  return m;
}

}  // namespace cryptounet::henn
