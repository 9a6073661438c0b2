// The rotation side of a linear layer: the source masks (a tap mask moved before its rotation), the key-switching
// cost model that picks the side, and that the tiny U-Net of the network tests runs layers on both sides (so the
// plain and encrypted network tests check both against nn::forward).
#include "henn/layout.h"
#include "henn/linear_layers.h"
#include "henn/plain_backend.h"
#include "henn/schedule.h"
#include "tiny_unet.h"

#include <gtest/gtest.h>

#include <random>

namespace cryptounet::henn {
namespace {

nn::Node conv_node(int in_channels, int out_channels, int kernel) {
  nn::Node n;
  n.op = nn::Op::Conv2d;
  n.in_channels = in_channels;
  n.channels = out_channels;
  n.kernel = kernel;
  n.padding = kernel / 2;
  n.weight.assign(static_cast<std::size_t>(out_channels) * in_channels * kernel * kernel, 0.5);
  n.bias.assign(out_channels, 0.0);
  return n;
}

TEST(HennRotationSide, SourceMasksApplyBeforeTheRotation) {
  const Layout layout = Layout::create(8, 8, 256, 2);
  const PlainBackend be(layout.slots, {0x1p60});
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> v(layout.slots);
  for (double& x : v) x = uniform(rng);
  const PlainBackend::Value value = be.encrypt(v, 0, 1.0);
  for (int stride : {1, 2}) {
    const LinearTaps taps = linear_taps(conv_node(1, 1, 3), layout, stride);
    const auto sources = source_masks(taps);
    ASSERT_EQ(sources.size(), taps.masks.size());
    for (std::size_t t = 0; t < taps.steps.size(); ++t) {
      const auto masked_first = be.rotate(be.mul_plain(value, be.encode(sources[t], 0, 1.0)), taps.steps[t]);
      const auto rotated_first = be.mul_plain(be.rotate(value, taps.steps[t]), be.encode(taps.masks[t], 0, 1.0));
      EXPECT_EQ(masked_first.slots, rotated_first.slots) << "stride " << stride << " tap " << t;
    }
  }
}

TEST(HennRotationSide, PicksTheSideWithLessKeySwitchingWork) {
  const Layout layout = Layout::create(8, 8, 256, 2);
  auto side = [&](int in, int out, int kernel, ActivationMode mode) {
    const nn::Node node = conv_node(in, out, kernel);
    return rotation_side(linear_taps(node, layout, 1), linear_weights(node, nullptr), mode);
  };
  // 8 rotated taps: input side C_in * 17, output side A * C_out * 10.
  EXPECT_EQ(side(1, 8, 3, ActivationMode::TwoAccumulators), RotationSide::Input);
  EXPECT_EQ(side(8, 8, 3, ActivationMode::TwoAccumulators), RotationSide::Input);     // 136 < 160
  EXPECT_EQ(side(8, 8, 3, ActivationMode::CompletedSquare), RotationSide::Output);    // 80 < 136
  EXPECT_EQ(side(16, 32, 3, ActivationMode::CompletedSquare), RotationSide::Input);   // 272 < 320
  EXPECT_EQ(side(32, 16, 3, ActivationMode::CompletedSquare), RotationSide::Output);  // 160 < 544
  EXPECT_EQ(side(8, 1, 1, ActivationMode::None), RotationSide::Input);                // nothing to rotate
}

TEST(HennRotationSide, TheTinyUNetUsesBothSides) {
  const nn::Model model = testing::tiny_unet(2, 3);
  const Schedule schedule = Schedule::create(model);
  const Layout layout = Layout::create(32, 32, 2048, 2);
  int input_side = 0, output_side = 0;
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    const nn::Node& node = model.nodes[i];
    if (node.op != nn::Op::Conv2d && node.op != nn::Op::ConvTranspose2d) continue;
    const nn::Node* act = schedule.nodes[i].fused_activation ? &model.nodes[i + 1] : nullptr;
    const LinearWeights lw = linear_weights(node, act);
    const LinearTaps taps = linear_taps(node, layout, schedule.nodes[node.inputs[0]].stride);
    const bool rotates = std::any_of(taps.steps.begin(), taps.steps.end(), [](int s) { return s != 0; });
    if (!rotates) continue;
    (rotation_side(taps, lw, activation_mode(lw, LayerOptions{})) == RotationSide::Output ? output_side : input_side)++;
  }
  EXPECT_GT(input_side, 0);
  EXPECT_GT(output_side, 0);
}

}  // namespace
}  // namespace cryptounet::henn
