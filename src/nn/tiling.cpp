#include "nn/tiling.h"

#include <stdexcept>
#include <string>

namespace cryptounet::nn {

namespace {

std::vector<int> origins(int length, int tile, int stride) {
  std::vector<int> out{0};
  while (out.back() + tile < length) out.push_back(std::min(out.back() + stride, length - tile));
  return out;
}

// The range [begin, end) of image coordinates that tile k of `origins` owns: up to the middle of each overlap.
std::pair<int, int> owned_range(const std::vector<int>& origins, std::size_t k, int tile, int length) {
  const int begin = k == 0 ? 0 : (origins[k] + origins[k - 1] + tile) / 2;
  const int end = k + 1 == origins.size() ? length : (origins[k + 1] + origins[k] + tile) / 2;
  return {begin, end};
}

void check_grid_arguments(int width, int height, int tile, int stride) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("make_tile_grid: empty image");
  if (tile <= 0 || stride <= 0 || stride > tile)
    throw std::invalid_argument("make_tile_grid: need 0 < stride <= tile (stride " + std::to_string(stride) +
                                ", tile " + std::to_string(tile) + ")");
}

// The length of origins(length, tile, stride): 0, stride, 2 stride, ... below length - tile, then length - tile.
std::uint64_t origin_count(int length, int tile, int stride) {
  if (length <= tile) return 1;
  return 1 + (static_cast<std::uint64_t>(length - tile) + stride - 1) / stride;
}

}  // namespace

std::uint64_t tile_count(int width, int height, int tile, int stride) {
  check_grid_arguments(width, height, tile, stride);
  return origin_count(width, tile, stride) * origin_count(height, tile, stride);
}

TileGrid make_tile_grid(int width, int height, int tile, int stride) {
  check_grid_arguments(width, height, tile, stride);
  TileGrid grid;
  grid.width = width;
  grid.height = height;
  grid.tile = tile;
  grid.xs = origins(width, tile, stride);
  grid.ys = origins(height, tile, stride);
  return grid;
}

std::vector<Tensor> extract_tiles(const Tensor& image, const TileGrid& grid) {
  if (image.width != grid.width || image.height != grid.height)
    throw std::invalid_argument("extract_tiles: image size differs from the grid's");
  std::vector<Tensor> tiles;
  tiles.reserve(grid.count());
  for (int oy : grid.ys)
    for (int ox : grid.xs) {
      Tensor t(image.channels, grid.tile, grid.tile);
      for (int c = 0; c < image.channels; ++c)
        for (int y = 0; y < grid.tile && oy + y < image.height; ++y)
          for (int x = 0; x < grid.tile && ox + x < image.width; ++x) t.at(c, y, x) = image.at(c, oy + y, ox + x);
      tiles.push_back(std::move(t));
    }
  return tiles;
}

Tensor assemble_tiles(const std::vector<Tensor>& outputs, const TileGrid& grid) {
  if (outputs.size() != grid.count()) throw std::invalid_argument("assemble_tiles: wrong number of tiles");
  const int channels = outputs.empty() ? 0 : outputs.front().channels;
  Tensor out(channels, grid.height, grid.width);
  std::size_t index = 0;
  for (std::size_t ty = 0; ty < grid.ys.size(); ++ty) {
    const auto [y0, y1] = owned_range(grid.ys, ty, grid.tile, grid.height);
    for (std::size_t tx = 0; tx < grid.xs.size(); ++tx, ++index) {
      const Tensor& t = outputs[index];
      if (t.channels < 1 || t.channels != channels || t.height != grid.tile || t.width != grid.tile)
        throw std::invalid_argument("assemble_tiles: tile " + std::to_string(index) + " has the wrong shape");
      const auto [x0, x1] = owned_range(grid.xs, tx, grid.tile, grid.width);
      for (int c = 0; c < channels; ++c)
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) out.at(c, y, x) = t.at(c, y - grid.ys[ty], x - grid.xs[tx]);
    }
  }
  return out;
}

Tensor predict_tiled(const Tensor& image, const TileGrid& grid, const std::function<Tensor(const Tensor&)>& tile_fn) {
  std::vector<Tensor> tiles = extract_tiles(image, grid);
  for (Tensor& t : tiles) t = tile_fn(t);
  return assemble_tiles(tiles, grid);
}

}  // namespace cryptounet::nn
