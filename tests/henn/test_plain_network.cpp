// Layout and layer logic on the exact plaintext backend: the same code that runs on ciphertexts must reproduce
// nn::forward, layer by layer, for every image of a batch, up to the integer rounding of the weights (2^-24 here:
// errors ~1e-6; any layout mistake gives errors of order 1).
#include "henn/compare.h"
#include "henn/layout.h"
#include "henn/network.h"
#include "henn/plain_backend.h"
#include "henn/schedule.h"
#include "nn/forward.h"
#include "tiny_unet.h"

#include <gtest/gtest.h>

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

// Primes near 2^40 that differ from each other, so exact scale tracking is exercised.
std::vector<double> fake_primes(int levels) {
  std::vector<double> primes{0x1p60};
  for (int l = 1; l <= levels; ++l) primes.push_back(0x1p40 * (1.0 - 1e-7 * l));
  return primes;
}

void check_network(int depth, int channels, int side, int images_in_batch) {
  const nn::Model model = testing::tiny_unet(depth, channels);
  const Schedule schedule = Schedule::create(model);
  const Layout layout = Layout::create(side, side, 2048, depth);
  ASSERT_GE(layout.batch, images_in_batch);
  const auto images = random_images(images_in_batch, side, side, 11);
  std::vector<std::vector<nn::Tensor>> reference;
  std::vector<const std::vector<double>*> planes;
  for (const auto& img : images) {
    reference.push_back(nn::forward(model, img));
    planes.push_back(&img.data);
  }
  PlainBackend be(layout.slots, fake_primes(schedule.depth));
  const auto input = be.encrypt(layout.pack(planes), schedule.depth, 0x1p32);
  int reported = 0;
  auto on_node = [&](int node, double, const FeatureMap<PlainBackend::Value>& out) {
    std::vector<std::vector<double>> slots;
    for (const auto& v : out.channels) slots.push_back(v.slots);
    std::vector<const nn::Tensor*> refs;
    for (const auto& r : reference) refs.push_back(&r[node]);
    EXPECT_LT(max_abs_error(layout, slots, out.stride, out.factor, out.offset, refs), 1e-5) << "node " << node;
    ++reported;
  };
  LayerOptions options;
  options.weight_bits = 24;
  const auto out = run_network(be, model, layout, input, options, on_node);
  EXPECT_GT(reported, 5);
  EXPECT_EQ(out.channels[0].level, 0);
  EXPECT_DOUBLE_EQ(out.channels[0].scale, LayerOptions{}.output_scale);
}

TEST(HennLayout, PackUnpackRoundTrip) {
  const Layout layout = Layout::create(8, 8, 512, 2);
  EXPECT_EQ(layout.block, 64);
  EXPECT_EQ(layout.batch, 8);
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
  EXPECT_EQ(count(layout.conv_tap_mask(1, -1, 1)), 4 * 49);
  EXPECT_EQ(count(layout.conv_tap_mask(4, 1, 0)), 4 * 2);
  EXPECT_EQ(count(layout.phase_mask(2, 1, 1)), 4 * 16);
  EXPECT_EQ(layout.phase_mask(2, 1, 1)[layout.slot(0, 1, 1)], 1.0);
  EXPECT_THROW(Layout::create(12, 12, 256, 3), std::invalid_argument);
  EXPECT_THROW(Layout::create(32, 32, 512, 1), std::invalid_argument);
}

TEST(HennPlainNetwork, Depth1MatchesForward) { check_network(1, 2, 16, 3); }
TEST(HennPlainNetwork, Depth2MatchesForward) { check_network(2, 3, 32, 2); }

TEST(HennSchedule, CountsLevelsAndSteps) {
  const nn::Model model = testing::tiny_unet(2, 4);
  const Schedule s = Schedule::create(model);
  EXPECT_EQ(s.depth, 23);  // 5 stages x (conv+act)x2 = 20, two transposed convs, 1x1 head
  const Layout layout = Layout::create(32, 32, 8192, 2);
  const auto steps = s.rotation_steps(model, layout);
  EXPECT_EQ(steps.size(), 24u);  // 8 neighbours at strides 1, 2, 4 (pooling and upsampling reuse them)
}

TEST(HennSchedule, RefusesNonHeFriendlyOps) {
  nn::Model model = testing::tiny_unet(1, 2);
  model.nodes[2].op = nn::Op::Relu;
  EXPECT_THROW(Schedule::create(model), std::runtime_error);
}

}  // namespace
}  // namespace cryptounet::henn
