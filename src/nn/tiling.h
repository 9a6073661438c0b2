// Tiling of an image of any size into fixed model tiles with overlap, and reassembly of the per-tile logit maps
// by center crop: each output pixel comes from the tile whose interior it lies deepest in, so that tile borders
// (where the convolutions saw zero padding) are not used wherever a neighbouring tile covers them.
#pragma once

#include "io/image.h"
#include "nn/tensor.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace cryptounet::nn {

struct TileGrid {
  int width = 0;   // image size
  int height = 0;
  int tile = 0;    // tile side
  std::vector<int> xs;  // tile origins along x (ascending; the last tile ends at the border unless it is the first)
  std::vector<int> ys;

  std::size_t count() const { return xs.size() * ys.size(); }
};

// Origins 0, stride, 2 stride, ..., plus a last one flush with the border. An image side smaller than the tile
// gets one tile (zero-padded at the bottom/right). Requires 0 < stride <= tile.
TileGrid make_tile_grid(int width, int height, int tile, int stride);

// make_tile_grid(width, height, tile, stride).count() by arithmetic alone (no allocation), for checking sizes read
// from a file before any grid is built. Same preconditions.
std::uint64_t tile_count(int width, int height, int tile, int stride);

// The tiles of a C-channel image as C x tile x tile tensors, row by row (ys outer, xs inner); outside the image is 0
// (the mean of a normalized image).
std::vector<Tensor> extract_tiles(const Tensor& image, const TileGrid& grid);

// Reassembles every channel of the tiles' outputs (K x tile x tile, same order as extract_tiles) into an image-size
// K-channel tensor.
Tensor assemble_tiles(const std::vector<Tensor>& outputs, const TileGrid& grid);

// extract_tiles -> tile_fn on each -> assemble_tiles.
Tensor predict_tiled(const Tensor& image, const TileGrid& grid, const std::function<Tensor(const Tensor&)>& tile_fn);

}  // namespace cryptounet::nn
