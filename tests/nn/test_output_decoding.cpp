// The client's reading of K logit channels per the sidecar's output kind, and predict_logits keeping channels through
// tiling and stitching.
#include "nn/output_decoding.h"
#include "nn/predict.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace cryptounet::nn {
namespace {

Tensor logits_of(int channels, const std::vector<std::vector<double>>& values) {
  Tensor t(channels, 1, static_cast<int>(values.front().size()));
  for (int c = 0; c < channels; ++c) std::copy(values[c].begin(), values[c].end(), t.channel(c));
  return t;
}

TEST(OutputDecoding, ClassesAreTheArgmaxAndClassZeroIsBackground) {
  const Tensor logits = logits_of(3, {{2.0, 0.0, -1.0, 1.0}, {1.0, 3.0, -2.0, 1.0}, {0.0, 2.0, 5.0, 0.5}});
  EXPECT_EQ(class_labels(logits).pixels, (std::vector<std::uint16_t>{0, 1, 2, 0}));  // a tie goes to the lower id
  ModelInfo info;
  info.output = OutputKind::Classes;
  info.output_channels = 3;
  EXPECT_EQ(foreground_mask(logits, info).pixels, (std::vector<std::uint8_t>{0, 1, 1, 0}));
  info.output_channels = 2;
  EXPECT_THROW(foreground_mask(logits, info), std::invalid_argument);
}

TEST(OutputDecoding, MaskContourUsesChannelZeroAndExposesTheBoundary) {
  const Tensor logits = logits_of(2, {{-1.0, 0.5, 3.0}, {0.0, 4.0, -4.0}});
  ModelInfo info;
  info.output = OutputKind::MaskContour;
  info.output_channels = 2;
  info.threshold_logit = 0.25;
  EXPECT_EQ(foreground_mask(logits, info).pixels, (std::vector<std::uint8_t>{0, 1, 1}));
  const io::Plane boundary = channel_probability(logits, 1);
  EXPECT_DOUBLE_EQ(boundary.pixels[0], 0.5);
  EXPECT_NEAR(boundary.pixels[1], 1.0 / (1.0 + std::exp(-4.0)), 1e-15);
  EXPECT_THROW(channel_probability(logits, 2), std::out_of_range);
}

// Two overlapping disks, one mask part: the core channel splits it in two, the mask alone does not; a method whose
// channel the output kind lacks is refused.
TEST(OutputDecoding, NucleiFollowTheInstanceMethod) {
  Tensor logits(2, 20, 40);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 40; ++x) {
      const double left = std::hypot(x - 12.0, y - 10.0), right = std::hypot(x - 27.0, y - 10.0);
      logits.channel(0)[y * 40 + x] = std::min(left, right) <= 8 ? 4.0 : -4.0;
      const bool core = (left <= 6 && right > 10) || (right <= 6 && left > 10);
      logits.channel(1)[y * 40 + x] = core ? 3.0 : -3.0;
    }
  ModelInfo info;
  info.output = OutputKind::MaskCore;
  info.output_channels = 2;
  InstanceOptions o;
  o.method = InstanceMethod::Core;
  const io::LabelImage split = nuclei_labels(logits, info, o);
  EXPECT_EQ(*std::max_element(split.pixels.begin(), split.pixels.end()), 2);
  EXPECT_EQ(split.at(10, 12), 1);
  EXPECT_EQ(split.at(10, 27), 2);
  o.method = InstanceMethod::Components;
  const io::LabelImage one = nuclei_labels(logits, info, o);
  EXPECT_EQ(*std::max_element(one.pixels.begin(), one.pixels.end()), 1);
  o.method = InstanceMethod::Contour;
  EXPECT_THROW(nuclei_labels(logits, info, o), std::invalid_argument);
}

// A 1x1 convolution from 3 channels to 2 (no pooling): predict_logits gives K x H x W logits on an image larger
// than a tile, equal to the pixelwise map, tiled or whole.
TEST(OutputDecoding, PredictKeepsEveryChannelThroughTiling) {
  Model m;
  m.name = "pixelwise";
  Node input;
  input.name = "image";
  input.channels = 3;
  m.nodes.push_back(input);
  Node conv;
  conv.op = Op::Conv2d;
  conv.name = "logits";
  conv.inputs = {0};
  conv.in_channels = 3;
  conv.channels = 2;
  conv.kernel = 1;
  conv.weight = {1, 2, 3, -1, 0, 0.5};
  conv.bias = {0.25, -0.5};
  m.nodes.push_back(conv);
  m.validate();
  Tensor image(3, 37, 45);
  for (std::size_t i = 0; i < image.data.size(); ++i) image.data[i] = std::sin(0.37 * static_cast<double>(i));
  for (bool whole : {false, true}) {
    const Tensor out = predict_logits(m, image, {16, 12, whole});
    ASSERT_EQ(out.channels, 2);
    ASSERT_EQ(out.height, 37);
    ASSERT_EQ(out.width, 45);
    for (int y = 0; y < 37; ++y)
      for (int x = 0; x < 45; ++x) {
        const double r = image.at(0, y, x), g = image.at(1, y, x), b = image.at(2, y, x);
        ASSERT_NEAR(out.at(0, y, x), 0.25 + r + 2 * g + 3 * b, 1e-12);
        ASSERT_NEAR(out.at(1, y, x), -0.5 - r + 0.5 * b, 1e-12);
      }
  }
  EXPECT_THROW(predict_logits(m, io::Plane(16, 16), {16, 12, false}), std::invalid_argument);
}

}  // namespace
}  // namespace cryptounet::nn
