// Layout and layer logic on the exact plaintext backend: the same code that runs on ciphertexts must reproduce
// nn::forward, layer by layer, for every image of a batch, up to the integer rounding of the weights (2^-24 here:
// errors ~1e-6; any layout mistake gives errors of order 1).
#include "henn/compare.h"
#include "henn/layout.h"
#include "henn/linear_layers.h"
#include "henn/network.h"
#include "henn/plain_backend.h"
#include "henn/schedule.h"
#include "nn/forward.h"
#include "tiny_unet.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

#include <random>

namespace cryptounet::henn {
namespace {

std::vector<nn::Tensor> random_images(int count, int h, int w, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<nn::Tensor> images;
  for (int i = 0; i < count; ++i) {
    nn::Tensor t(1, h, w);
    for (double& v : t.data) v = normal(rng);
    images.push_back(std::move(t));
  }
  return images;
}

// `ciphertexts` inputs of `per_ciphertext` images each: more than one exercises the lanes (interleaving at stride 2).
void check_network(const nn::Model& model, int side, int ciphertexts, int per_ciphertext) {
  const Schedule schedule = Schedule::create(model);
  const Layout layout = Layout::create(side, side, 2048, model.pooling_depth());
  ASSERT_GE(layout.tiles_per_ciphertext, per_ciphertext);
  PlainBackend be(layout.slots, testing::fake_primes(schedule.levels));
  std::vector<std::vector<nn::Tensor>> images, reference;  // [ciphertext][tile] and [ciphertext * batch + tile][node]
  std::vector<PlainBackend::Value> inputs;
  for (int c = 0; c < ciphertexts; ++c) {
    images.push_back(random_images(per_ciphertext, side, side, 11 + c));
    std::vector<const std::vector<double>*> planes;
    for (const auto& img : images.back()) {
      reference.push_back(nn::forward(model, img));
      planes.push_back(&img.data);
    }
    inputs.push_back(be.encrypt(layout.pack(planes), schedule.levels, 0x1p32));
  }
  int reported = 0, interleaved = 0;
  auto on_node = [&](int node, double, const LaneMaps<PlainBackend::Value>& out) {
    std::vector<DecodedMap> maps;
    for (const auto& m : out) {
      maps.push_back(decode_map(m, [](const PlainBackend::Value& v) { return v.slots; }));
      interleaved += m.lanes > 1;
    }
    std::vector<std::vector<const nn::Tensor*>> refs(ciphertexts);
    for (int c = 0; c < ciphertexts; ++c)
      for (int b = 0; b < per_ciphertext; ++b) refs[c].push_back(&reference[c * per_ciphertext + b][node]);
    EXPECT_LT(max_abs_error(layout, maps, refs), 1e-5) << "node " << node;
    // A skip branch waits for its concat with only the limbs the next convolution reads.
    if (model.nodes[node].op == nn::Op::Concat)
      for (const auto& m : out)
        for (const auto& v : m.channels) EXPECT_EQ(v.level, schedule.levels - schedule.nodes[node].levels_used);
    ++reported;
  };
  LayerOptions options;
  options.weight_bits = 24;
  const auto out = run_network(be, model, layout, inputs, options, on_node);
  EXPECT_GT(reported, 5);
  EXPECT_EQ(interleaved > 0, ciphertexts > 1);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(ciphertexts));
  EXPECT_EQ(out[0].level, 0);
  EXPECT_DOUBLE_EQ(out[0].scale, LayerOptions{}.output_scale);
}

TEST(HennLayout, PackUnpackRoundTrip) {
  const Layout layout = Layout::create(8, 8, 512, 2);
  EXPECT_EQ(layout.block, 64);
  EXPECT_EQ(layout.tiles_per_ciphertext, 8);
  std::vector<double> a(64), b(64);
  for (int i = 0; i < 64; ++i) a[i] = i, b[i] = -i;
  const auto slots = layout.pack({&a, &b});
  EXPECT_EQ(layout.unpack(slots, 0), a);
  EXPECT_EQ(layout.unpack(slots, 1), b);
  const auto strided = layout.unpack(slots, 1, 2);
  ASSERT_EQ(strided.size(), 16u);
  EXPECT_EQ(strided[5], -(2 * 8 + 2));  // (1,1) of the stride-2 grid = pixel (2,2)
}

TEST(HennLayout, MasksSelectOnlyValidPositions) {
  const Layout layout = Layout::create(8, 8, 256, 2);
  auto count = [](const std::vector<double>& m) { int c = 0; for (double v : m) c += v != 0; return c; };
  EXPECT_EQ(count(layout.grid_mask(1)), 4 * 64);
  EXPECT_EQ(count(layout.grid_mask(2)), 4 * 16);
  EXPECT_EQ(count(conv_tap_mask(layout, 1, -1, 1)), 4 * 49);
  EXPECT_EQ(count(conv_tap_mask(layout, 4, 1, 0)), 4 * 2);
  EXPECT_EQ(count(phase_mask(layout, 2, 1, 1)), 4 * 16);
  EXPECT_EQ(count(layout.grid_mask(2, 4)), 4 * 64);  // four interleaved lanes fill the stride-2 cells
  EXPECT_EQ(layout.grid_mask(2, 2)[layout.slot(1, 1, 1, 2) + 1], 1.0);
  EXPECT_EQ(layout.grid_mask(2, 2)[layout.slot(1, 1, 1, 2) + 8], 0.0);
  EXPECT_THROW(layout.grid_mask(1, 2), std::invalid_argument);
  EXPECT_THROW(phase_mask(layout, 2, 0, 0, 2), std::invalid_argument);
  EXPECT_EQ(phase_mask(layout, 2, 1, 1)[layout.slot(0, 1, 1)], 1.0);
  EXPECT_THROW(Layout::create(12, 12, 256, 3), std::invalid_argument);
  EXPECT_THROW(Layout::create(32, 32, 512, 1), std::invalid_argument);
}

TEST(HennPlainNetwork, Depth1MatchesForward) { check_network(testing::tiny_unet(1, 2), 16, 1, 3); }
TEST(HennPlainNetwork, Depth2MatchesForward) { check_network(testing::tiny_unet(2, 3), 32, 1, 2); }
TEST(HennPlainNetwork, FourLanesMatchForward) { check_network(testing::tiny_unet(2, 3), 32, 4, 2); }
TEST(HennPlainNetwork, ThreeLanesMatchForward) { check_network(testing::tiny_unet(1, 2), 16, 3, 8); }
// Depth 3 (stride 8 at the bottleneck, 32 levels with two convolutions per stage), one and four lanes.
TEST(HennPlainNetwork, Depth3MatchesForward) { check_network(testing::tiny_unet(3, 2), 32, 1, 2); }
TEST(HennPlainNetwork, Depth3FourLanesMatchForward) { check_network(testing::tiny_unet(3, 2), 32, 4, 2); }
// Strided 2x2 convolutions instead of poolings: the first one (from stride 1) merges the lanes, the second keeps them.
TEST(HennPlainNetwork, StridedDownsamplingFourLanesMatchForward) {
  check_network(testing::with_strided_downsampling(testing::tiny_unet(2, 2)), 16, 4, 2);
}

// A pruned or dead filter (every weight of an output channel zero) gives a constant map, not an error.
TEST(HennPlainNetwork, DeadOutputChannelsMatchForward) {
  nn::Model model = testing::tiny_unet(2, 3);
  int dead = 0;
  for (nn::Node& node : model.nodes) {
    if (node.op == nn::Op::Conv2d && &node != &model.nodes.back()) {
      for (int i = 0; i < node.in_channels; ++i)
        for (int k = 0; k < node.kernel * node.kernel; ++k)
          node.weight[static_cast<std::size_t>(i) * node.kernel * node.kernel + k] = 0.0;  // output channel 0
      ++dead;
    } else if (node.op == nn::Op::ConvTranspose2d) {
      for (int i = 0; i < node.in_channels; ++i)
        for (int k = 0; k < 4; ++k) node.weight[static_cast<std::size_t>(i) * node.channels * 4 + k] = 0.0;
      ++dead;
    }
  }
  ASSERT_GT(dead, 6);
  check_network(model, 32, 1, 2);
  check_network(model, 32, 4, 2);
}

TEST(HennSchedule, StridedConvolutionCostsOneLevelAndNoNewKey) {
  const nn::Model pooled = testing::tiny_unet(2, 2);
  const nn::Model strided = testing::with_strided_downsampling(pooled);
  const Schedule p = Schedule::create(pooled), s = Schedule::create(strided);
  EXPECT_EQ(strided.pooling_depth(), 2);
  EXPECT_EQ(s.levels, p.levels + 2);  // one level per strided convolution, none per pooling
  const Layout layout = Layout::create(16, 16, 2048, 2);
  EXPECT_EQ(s.rotation_steps(strided, layout), p.rotation_steps(pooled, layout));
  int merges = 0;
  for (std::size_t i = 0; i < strided.nodes.size(); ++i) {
    if (strided.nodes[i].op != nn::Op::StridedConv2x2) continue;
    EXPECT_EQ(s.nodes[i].stride, 2 * s.nodes[strided.nodes[i].inputs[0]].stride);
    EXPECT_TRUE(s.nodes[i].interleaved);
    merges += s.nodes[i].lane_step == LaneStep::Merge;
  }
  EXPECT_EQ(merges, 1);
}

TEST(HennSchedule, CountsLevelsAndSteps) {
  const nn::Model model = testing::tiny_unet(2, 4);
  const Schedule s = Schedule::create(model);
  EXPECT_EQ(s.levels, 23);  // 5 stages x (conv+act)x2 = 20, two transposed convs, 1x1 head
  const Layout layout = Layout::create(32, 32, 8192, 2);
  const auto steps = s.rotation_steps(model, layout);
  EXPECT_EQ(steps.size(), 24u);  // 8 neighbours at strides 1, 2, 4 (pooling, upsampling and lanes reuse them)
  // The key of a step serves the levels from its first use down: stride 1 from the input, stride 2 after the first
  // stage (2 x conv+act = 4 levels), stride 4 after the second (8); the first relinearization follows one level.
  const auto depths = s.rotation_depths(model, layout);
  ASSERT_EQ(depths.size(), steps.size());
  std::map<int, int> expected;
  for (const auto& [stride, depth] : {std::pair{1, 0}, {2, 4}, {4, 8}})
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        if (dy || dx) expected[stride * (dy * layout.width + dx)] = depth;
  for (std::size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(depths[i], expected.at(steps[i])) << "step " << steps[i];
  EXPECT_EQ(s.relinearization_depth(), 1);
}

TEST(HennSchedule, LanesMergeAtTheFirstLowResolutionConvAndSplitBackToFullResolution) {
  EXPECT_EQ(lane_step(nn::Op::Conv2d, 1, false), LaneStep::Keep);
  EXPECT_EQ(lane_step(nn::Op::Conv2d, 2, false), LaneStep::Merge);
  EXPECT_EQ(lane_step(nn::Op::Conv2d, 4, false), LaneStep::Merge);
  EXPECT_EQ(lane_step(nn::Op::Conv2d, 2, true), LaneStep::Keep);
  EXPECT_EQ(lane_step(nn::Op::ConvTranspose2d, 4, true), LaneStep::Keep);
  EXPECT_EQ(lane_step(nn::Op::ConvTranspose2d, 2, true), LaneStep::Split);
  EXPECT_EQ(lane_step(nn::Op::ConvTranspose2d, 2, false), LaneStep::Keep);
  // The strided convolution's output is at twice its input stride: from full resolution it already merges.
  EXPECT_EQ(lane_step(nn::Op::StridedConv2x2, 1, false), LaneStep::Merge);
  EXPECT_EQ(lane_step(nn::Op::StridedConv2x2, 2, false), LaneStep::Merge);
  EXPECT_EQ(lane_step(nn::Op::StridedConv2x2, 2, true), LaneStep::Keep);
  const nn::Model model = testing::tiny_unet(2, 2);
  const Schedule s = Schedule::create(model);
  int merges = 0, splits = 0;
  for (const NodeSchedule& ns : s.nodes) {
    merges += ns.lane_step == LaneStep::Merge;
    splits += ns.lane_step == LaneStep::Split;
    EXPECT_TRUE(!ns.interleaved || ns.stride >= 2) << "lanes interleave only at low resolution";
    EXPECT_TRUE(ns.lane_step != LaneStep::Merge || ns.interleaved);
    EXPECT_TRUE(ns.lane_step != LaneStep::Split || !ns.interleaved);
  }
  EXPECT_EQ(merges, 1);
  EXPECT_EQ(splits, 1);
}

// The plaintext backend refuses exactly what the CKKS evaluator refuses, so layer code validated on it runs on
// ciphertexts.
TEST(HennPlainBackend, FollowsTheCkksLevelAndScaleRules) {
  const PlainBackend be(8, testing::fake_primes(3));
  const std::vector<double> ones(8, 1.0);
  const PlainBackend::Value x = be.encrypt(ones, 2, 0x1p30);
  EXPECT_EQ(be.mul_plain(x, be.encode(ones, 3, 0x1p20)).level, 2);  // a plaintext above the level is fine
  EXPECT_THROW(be.mul_plain(x, be.encode(ones, 1, 0x1p20)), std::invalid_argument);
  PlainBackend::Value y = x;
  be.add_inplace(y, be.encrypt(ones, 2, 0x1p30 * (1 + 1e-12)));  // within ckks::check_same_scale's tolerance
  EXPECT_THROW(be.add_inplace(y, be.encrypt(ones, 2, 0x1p30 * (1 + 1e-6))), std::invalid_argument);
  EXPECT_THROW(be.add_inplace(y, be.encrypt(ones, 1, 0x1p30)), std::invalid_argument);
  auto acc = be.accumulator(2, 0x1p20);
  PlainBackend::Accumulator* rows[] = {&acc};
  const PlainBackend::Value low = be.encrypt(ones, 1, 0x1p30);
  const PlainBackend::Value* terms[] = {&x, &low};
  EXPECT_THROW(be.accumulate(rows, terms, std::vector<std::int64_t>{std::int64_t{1} << 31, 0}),
               std::invalid_argument);
  EXPECT_THROW(be.accumulate(rows, terms, std::vector<std::int64_t>{0, 1}), std::invalid_argument);
  EXPECT_THROW(be.accumulate(rows, terms, std::vector<std::int64_t>{1}), std::invalid_argument);
  EXPECT_THROW(be.finish(be.accumulator(2, 0x1p20)), std::logic_error);
}

TEST(HennSchedule, RefusesNonHeFriendlyOps) {
  nn::Model model = testing::tiny_unet(1, 2);
  model.nodes[2].op = nn::Op::Relu;
  EXPECT_THROW(Schedule::create(model), std::runtime_error);
}

}  // namespace
}  // namespace cryptounet::henn
