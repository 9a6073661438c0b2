#include "henn/tiling.h"

#include <stdexcept>

namespace cryptounet::henn {

Tiles split_into_tiles(const std::vector<io::Plane>& images, int tile_h, int tile_w) {
  Tiles t;
  for (std::size_t k = 0; k < images.size(); ++k) {
    const io::Plane& img = images[k];
    if (img.width <= 0 || img.height <= 0) throw std::invalid_argument("tiling: empty image");
    for (int y = 0; y < img.height; y += tile_h)
      for (int x = 0; x < img.width; x += tile_w) {
        std::vector<double> tile(static_cast<std::size_t>(tile_h) * tile_w, 0.0);
        for (int i = 0; i < tile_h && y + i < img.height; ++i)
          for (int j = 0; j < tile_w && x + j < img.width; ++j) tile[i * tile_w + j] = img.at(y + i, x + j);
        t.refs.push_back({static_cast<int>(k), y, x});
        t.pixels.push_back(std::move(tile));
      }
  }
  return t;
}

std::vector<io::Plane> assemble_tiles(const std::vector<TileRef>& refs, const std::vector<std::vector<double>>& tiles,
                                      int tile_h, int tile_w, const std::vector<std::pair<int, int>>& sizes) {
  if (refs.size() != tiles.size()) throw std::invalid_argument("tiling: tile count mismatch");
  std::vector<io::Plane> out;
  for (const auto& [w, h] : sizes) out.emplace_back(w, h);
  for (std::size_t t = 0; t < refs.size(); ++t) {
    const TileRef& r = refs[t];
    if (r.image < 0 || r.image >= static_cast<int>(out.size())) throw std::invalid_argument("tiling: bad tile image");
    io::Plane& img = out[r.image];
    for (int i = 0; i < tile_h && r.y + i < img.height; ++i)
      for (int j = 0; j < tile_w && r.x + j < img.width; ++j) img.at(r.y + i, r.x + j) = tiles[t][i * tile_w + j];
  }
  return out;
}

}  // namespace cryptounet::henn
