#include "io/preprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace cryptounet::io {
namespace {

// 2x2 RGB: gray = mean(R,G,B)/255 = {0.2, 0.4, 0.6, 0.8} (mean 0.5, not above 0.5: no inversion);
// population std = sqrt(0.05); z = (g - 0.5)/sqrt(0.05) = {-1.3416, -0.4472, 0.4472, 1.3416}; clip 1 -> +-1.
TEST(Preprocess, HandComputedExample) {
  Image im;
  im.width = 2;
  im.height = 2;
  im.channels = 3;
  im.samples = {51, 51, 51, 0, 102, 204, 153, 153, 153, 255, 153, 204};
  const Plane gray = to_gray(im);
  EXPECT_NEAR(gray.pixels[0], 0.2, 1e-15);
  EXPECT_NEAR(gray.pixels[1], 0.4, 1e-15);
  EXPECT_NEAR(gray.pixels[3], 0.8, 1e-15);
  Normalization norm;
  norm.clip = 1.0;
  const Plane x = preprocess(im, norm);
  const double sd = std::sqrt(0.05);
  EXPECT_DOUBLE_EQ(x.pixels[0], -1.0);
  EXPECT_NEAR(x.pixels[1], -0.1 / sd, 1e-12);
  EXPECT_NEAR(x.pixels[2], 0.1 / sd, 1e-12);
  EXPECT_DOUBLE_EQ(x.pixels[3], 1.0);
}

// Bright background (brightfield): mean 0.7 > 0.5 -> inverted, so the dark object becomes the bright one.
TEST(Preprocess, InvertsBrightImagesAndFloorsStd) {
  Plane gray(2, 1);
  gray.pixels = {0.9, 0.5};
  const Plane x = normalize_gray(gray, Normalization{});
  EXPECT_NEAR(x.pixels[0], -1.0, 1e-12);  // inverted: {0.1, 0.5}, mean 0.3, std 0.2
  EXPECT_NEAR(x.pixels[1], 1.0, 1e-12);
  Plane flat(3, 1, 0.25);
  const Plane z = normalize_gray(flat, Normalization{});
  for (double v : z.pixels) EXPECT_EQ(v, 0.0);  // std floored at min_std, no division by zero
}

TEST(Preprocess, SixteenBitGrayAndAlphaIgnored) {
  Image im;
  im.width = 1;
  im.height = 1;
  im.channels = 2;
  im.bit_depth = 16;
  im.samples = {65535, 0};
  EXPECT_DOUBLE_EQ(to_gray(im).pixels[0], 1.0);
  Image rgba;
  rgba.width = 1;
  rgba.height = 1;
  rgba.channels = 4;
  rgba.samples = {30, 60, 90, 0};
  EXPECT_DOUBLE_EQ(to_gray(rgba).pixels[0], 60.0 / 255.0);
}

// Colour models keep R, G, B: each channel z-scored on its own; the inversion is decided once for the whole image.
TEST(Preprocess, RgbChannelsAreNormalizedEachOnItsOwn) {
  Image im;
  im.width = 2;
  im.height = 1;
  im.channels = 4;  // RGBA: alpha ignored
  im.samples = {0, 100, 200, 7, 255, 50, 100, 9};
  Normalization norm;
  norm.color = Normalization::Color::Rgb;
  const std::vector<Plane> rgb = preprocess_channels(im, norm);
  ASSERT_EQ(rgb.size(), 3u);
  for (const Plane& p : rgb) {  // two pixels: z = -1 and +1 for the smaller and the larger value
    EXPECT_NEAR(p.pixels[0] + p.pixels[1], 0.0, 1e-12);
    EXPECT_NEAR(std::abs(p.pixels[0]), 1.0, 1e-12);
  }
  EXPECT_LT(rgb[0].pixels[0], 0);  // R: 0 < 255
  EXPECT_GT(rgb[1].pixels[0], 0);  // G: 100 > 50
  EXPECT_GT(rgb[2].pixels[0], 0);  // B: 200 > 100

  // Bright overall (mean 0.8 > 0.5): every channel inverted: the brighter pixel of each channel becomes
  // the smaller value.
  Image bright = im;
  bright.samples = {255, 255, 150, 255, 200, 255, 255, 255};
  const std::vector<Plane> inverted = preprocess_channels(bright, norm);
  EXPECT_LT(inverted[0].pixels[0], inverted[0].pixels[1]);  // R: 255 > 200
  EXPECT_GT(inverted[2].pixels[0], inverted[2].pixels[1]);  // B: 150 < 255

  // Fixed per-channel statistics; a gray image gives its gray level in all three channels.
  norm.method = Normalization::Method::Fixed;
  norm.mean = {0.5, 0.25, 0.0};
  norm.stddev = {0.5, 0.25, 1.0};
  Image gray;
  gray.width = 1;
  gray.height = 1;
  gray.channels = 1;
  gray.samples = {51};  // 0.2
  const std::vector<Plane> fixed = preprocess_channels(gray, norm);
  EXPECT_NEAR(fixed[0].pixels[0], (0.2 - 0.5) / 0.5, 1e-12);
  EXPECT_NEAR(fixed[1].pixels[0], (0.2 - 0.25) / 0.25, 1e-12);
  EXPECT_NEAR(fixed[2].pixels[0], 0.2, 1e-12);

  // Gray models: exactly the gray path.
  EXPECT_EQ(preprocess_channels(im, Normalization{})[0].pixels, preprocess(im, Normalization{}).pixels);
}

TEST(Preprocess, NormalizationFromSidecarJson) {
  const auto j = nlohmann::json::parse(
      R"({"grayscale": "mean_rgb", "invert_if_mean_above": 0.5, "method": "zscore_per_image", "min_std": 0.001, "clip": 3.5})");
  const Normalization n = Normalization::from_json(j);
  EXPECT_DOUBLE_EQ(n.clip, 3.5);
  EXPECT_DOUBLE_EQ(n.min_std, 1e-3);
  EXPECT_THROW(Normalization::from_json(nlohmann::json::parse(R"({"method": "minmax"})")), std::runtime_error);
  EXPECT_THROW(Normalization::from_json(nlohmann::json::parse(R"({"clip": -1})")), std::runtime_error);
}

}  // namespace
}  // namespace cryptounet::io
