// The Volley Revolver slot layout (docs/ENCODING.md): B tiles per ciphertext, tile b in the power-of-two slot
// block [b*block, (b+1)*block), row-major with row stride `width`. A feature map at stride s keeps pixel (i, j) of
// its (height/s x width/s) grid at slot b*block + (s*i)*width + s*j; the other slots hold garbage that every
// consumer masks out (masks select only valid positions, so garbage never reaches a valid slot).
//
// Lanes: at stride >= 2 a map can interleave the tiles of up to 4 ciphertexts ("lanes"): lane j's pixel (i, j') sits
// at slot(b, i, j', s) + lane_offset(j), i.e. in the free phases (0,0), (0,1), (1,0), (1,1) of each stride cell, so
// the low-resolution layers process 4 ciphertexts' tiles at the cost of one.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace cryptounet::henn {

struct Layout {
  int height = 0;                // tile rows
  int width = 0;                 // tile columns = row stride in slots
  int block = 0;                 // slots per tile: block_size(height, width)
  int slots = 0;                 // slots per ciphertext (N/2)
  int tiles_per_ciphertext = 0;  // slots / block

  // Throws std::invalid_argument when a tile does not fit or its sides are not divisible by 2^pooling_depth.
  static Layout create(int height, int width, int slots, int pooling_depth);
  // The slot block of one tile: the smallest power of two >= height*width, so that blocks divide the N/2 slots
  // exactly. Throws std::invalid_argument for sides that are not positive or a block above 2^30.
  static int block_size(int height, int width);

  std::size_t slot(int tile, int row, int col, int stride = 1) const {
    return static_cast<std::size_t>(tile) * block + static_cast<std::size_t>(row) * stride * width +
           static_cast<std::size_t>(col) * stride;
  }

  static constexpr int kMaxLanes = 4;
  int lane_offset(int lane) const { return (lane >> 1) * width + (lane & 1); }

  // Packs up to `tiles_per_ciphertext` planes (height*width doubles each, row-major) into one slot vector.
  std::vector<double> pack(const std::vector<const std::vector<double>*>& planes) const;
  // Reads tile `tile` (of lane `lane`) of a slot vector at stride s: (height/s)*(width/s) doubles, row-major.
  std::vector<double> unpack(const std::vector<double>& slot_values, int tile, int stride = 1, int lane = 0) const;

  // 1 at the valid positions of the stride-s grid of every tile, in lanes 0..lanes-1 (lanes > 1 needs stride >= 2).
  std::vector<double> grid_mask(int stride, int lanes = 1) const;
  // The same, only at the grid positions (i, j) where keep(i, j), each moved `shift` slots further (the tap and
  // phase masks of the linear layers, linear_layers.cpp).
  std::vector<double> grid_mask(int stride, int lanes, const std::function<bool(int, int)>& keep, int shift = 0) const;

  // Left-rotation step that brings the stride-s neighbour (i+dy, j+dx) onto (i, j).
  int tap_step(int stride, int dy, int dx) const { return stride * (dy * width + dx); }
};

}  // namespace cryptounet::henn
