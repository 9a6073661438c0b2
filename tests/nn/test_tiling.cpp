#include "nn/tiling.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cryptounet::nn {
namespace {

io::Plane pattern(int w, int h) {
  io::Plane p(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) p.at(y, x) = std::sin(0.1 * x) + 0.01 * y;
  return p;
}

TEST(Tiling, GridCoversTheImageWithTheLastTileFlush) {
  const TileGrid g = make_tile_grid(300, 128, 128, 96);
  EXPECT_EQ(g.xs, (std::vector<int>{0, 96, 172}));
  EXPECT_EQ(g.ys, (std::vector<int>{0}));
  const TileGrid small = make_tile_grid(50, 70, 128, 96);
  EXPECT_EQ(small.count(), 1u);
  EXPECT_THROW(make_tile_grid(100, 100, 128, 0), std::invalid_argument);
  EXPECT_THROW(make_tile_grid(100, 100, 128, 129), std::invalid_argument);
}

// The arithmetic count that load_batch checks untrusted sizes with is exactly the grid's, and never allocates.
TEST(Tiling, TileCountMatchesTheGridWithoutBuildingIt) {
  for (int tile : {1, 2, 7, 16, 128})
    for (int stride = 1; stride <= tile; stride += std::max(1, tile / 5))
      for (int w : {1, 2, tile - 1, tile, tile + 1, 3 * tile + 5, 300})
        for (int h : {1, tile + 2, 257}) {
          if (w <= 0) continue;
          EXPECT_EQ(tile_count(w, h, tile, stride), make_tile_grid(w, h, tile, stride).count())
              << w << "x" << h << " tile " << tile << " stride " << stride;
        }
  EXPECT_EQ(tile_count(65536, 65536, 1, 1), std::uint64_t{1} << 32);
  EXPECT_THROW((void)tile_count(0, 10, 16, 8), std::invalid_argument);
  EXPECT_THROW((void)tile_count(10, 10, 16, 17), std::invalid_argument);
}

// Identity per tile: reassembly must give back the image exactly, for large, odd and small sizes.
TEST(Tiling, IdentityRoundTrip) {
  for (auto [w, h] : {std::pair{300, 200}, std::pair{128, 128}, std::pair{257, 129}, std::pair{50, 70}}) {
    const Tensor image = Tensor::from_plane(pattern(w, h));
    const TileGrid grid = make_tile_grid(w, h, 128, 96);
    const Tensor out = predict_tiled(image, grid, [](const Tensor& t) { return t; });
    ASSERT_EQ(out.width, w);
    ASSERT_EQ(out.height, h);
    EXPECT_EQ(out.data, image.data) << w << "x" << h;
  }
}

// Every channel goes through tiling and stitching alike: C = 3 channels in, K = 2 pixelwise channels out.
TEST(Tiling, ChannelsInAndOut) {
  const int w = 257, h = 129;
  Tensor image(3, h, w);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) image.at(c, y, x) = std::sin(0.1 * x + c) + 0.01 * y * (c + 1);
  const TileGrid grid = make_tile_grid(w, h, 64, 48);
  const Tensor out = predict_tiled(image, grid, [](const Tensor& t) {
    EXPECT_EQ(t.channels, 3);
    Tensor r(2, t.height, t.width);
    for (int y = 0; y < t.height; ++y)
      for (int x = 0; x < t.width; ++x) {
        r.at(0, y, x) = t.at(0, y, x) + t.at(1, y, x);
        r.at(1, y, x) = 2 * t.at(2, y, x);
      }
    return r;
  });
  ASSERT_EQ(out.channels, 2);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      ASSERT_EQ(out.at(0, y, x), image.at(0, y, x) + image.at(1, y, x)) << y << "," << x;
      ASSERT_EQ(out.at(1, y, x), 2 * image.at(2, y, x)) << y << "," << x;
    }
}

// Center crop: every pixel comes from the tile in which it is farthest from the tile border.
TEST(Tiling, EachPixelComesFromTheNearestTileInterior) {
  const TileGrid grid = make_tile_grid(300, 128, 128, 96);
  std::vector<Tensor> outs;
  for (std::size_t k = 0; k < grid.count(); ++k) outs.emplace_back(1, 128, 128, static_cast<double>(k));
  const Tensor out = assemble_tiles(outs, grid);
  EXPECT_EQ(out.at(0, 5, 111), 0);   // overlap of tiles 0 [0,128) and 1 [96,224): split at 112
  EXPECT_EQ(out.at(0, 5, 112), 1);
  EXPECT_EQ(out.at(0, 5, 197), 1);   // overlap of tiles 1 and 2 [172,300): split at 198
  EXPECT_EQ(out.at(0, 5, 198), 2);
}

}  // namespace
}  // namespace cryptounet::nn
