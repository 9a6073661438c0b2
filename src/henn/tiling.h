// Images of any size -> model tiles (tile x tile, zero-padded at the right/bottom border) and back. The plaintext
// reference of the demo runs on the same tiles, so encrypted and plaintext outputs are compared like for like.
#pragma once

#include "io/image.h"

#include <vector>

namespace cryptounet::henn {

struct TileRef {
  int image = 0;  // index into the batch's images
  int y = 0;      // tile origin in the image
  int x = 0;
};

struct Tiles {
  std::vector<TileRef> refs;
  std::vector<std::vector<double>> pixels;  // tile_h * tile_w each, row-major
};

Tiles split_into_tiles(const std::vector<io::Plane>& images, int tile_h, int tile_w);
// Inverse of split_into_tiles: `sizes` gives each image's (width, height).
std::vector<io::Plane> assemble_tiles(const std::vector<TileRef>& refs, const std::vector<std::vector<double>>& tiles,
                                      int tile_h, int tile_w, const std::vector<std::pair<int, int>>& sizes);

}  // namespace cryptounet::henn
