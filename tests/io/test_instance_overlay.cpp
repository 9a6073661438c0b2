#include "io/overlay.h"
#include "test_images.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <tuple>

namespace cryptounet::io {
namespace {

std::tuple<int, int, int> rgb(const Image& im, int y, int x) { return {im.at(y, x, 0), im.at(y, x, 1), im.at(y, x, 2)}; }

TEST(InstanceOverlay, OutlinesEveryInstanceInItsOwnColourAndTintsItsInside) {
  // Two touching 5x5 squares, labels 1 and 2, on a mid-gray image.
  const Plane gray(12, 7, 0.5);
  LabelImage labels(12, 7);
  for (int y = 1; y < 6; ++y)
    for (int x = 1; x < 11; ++x) labels.at(y, x) = x < 6 ? 1 : 2;
  const Image out = make_instance_overlay(gray, labels);
  ASSERT_EQ(out.channels, 3);
  ASSERT_EQ(out.bit_depth, 8);
  const auto background = rgb(out, 0, 0);
  EXPECT_EQ(std::get<0>(background), std::get<1>(background));  // untouched gray
  const auto edge1 = rgb(out, 1, 3), edge2 = rgb(out, 1, 8);
  EXPECT_NE(edge1, edge2);                // different instances, different colours
  EXPECT_EQ(rgb(out, 3, 5), edge1);       // where they touch, each keeps its own outline
  EXPECT_EQ(rgb(out, 3, 6), edge2);
  const auto inside1 = rgb(out, 3, 3);
  EXPECT_NE(inside1, edge1);              // tinted, not outlined
  EXPECT_NE(inside1, background);
  EXPECT_THROW(make_instance_overlay(Plane(3, 3), LabelImage(3, 4)), std::invalid_argument);
}

TEST(InstanceOverlay, DisplayImageKeepsEightBitColourAndStretchesTheRest) {
  const Image rgba = test::make_image(6, 4, 4, 8);
  const Image shown = display_image(rgba);
  ASSERT_EQ(shown.channels, 3);
  for (std::size_t j = 0; j < shown.pixel_count(); ++j)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(shown.samples[j * 3 + c], rgba.samples[j * 4 + c]);

  const Image deep = test::make_image(16, 16, 1, 16);
  const Image stretched = display_image(deep);
  ASSERT_EQ(stretched.channels, 3);
  std::set<int> levels;
  for (const auto v : stretched.samples) {
    EXPECT_LE(v, 255);
    levels.insert(v);
  }
  EXPECT_TRUE(levels.count(0) && levels.count(255));  // the full display range is used
}

}  // namespace
}  // namespace cryptounet::io
