// Channels in and out: a colour (C = 3) input travels as a team of C ciphertexts per tile group, a K = 3 head comes
// back as K ciphertexts per tile group. On the exact plaintext backend every node matches nn::forward in every lane;
// on ciphertexts (the tiny layout: N = 2^15, 16x16 tiles, two tile groups so the lanes interleave) the decrypted
// logits match the plaintext backend within the tiny U-Net's stated error, and their argmax is the reference's label
// image.
#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/compare.h"
#include "henn/inference.h"
#include "henn/key_bundle.h"
#include "henn/network.h"
#include "henn/plain_backend.h"
#include "henn/planner.h"
#include "henn/schedule.h"
#include "henn/upload_check.h"
#include "nn/forward.h"
#include "nn/output_decoding.h"
#include "tiny_unet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

namespace cryptounet::henn {
namespace {

constexpr int kSide = 16;
constexpr int kInChannels = 3;
constexpr int kClasses = 3;

// Smooth random colour images: blobs of a random colour on a background, values in about [-2, 2].
std::vector<nn::Tensor> colour_images(int count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<nn::Tensor> out;
  for (int k = 0; k < count; ++k) {
    nn::Tensor t(kInChannels, kSide, kSide, -0.5);
    for (int b = 0; b < 3; ++b) {
      const double cy = u(rng) * kSide, cx = u(rng) * kSide, r = 2 + 3 * u(rng);
      double colour[kInChannels];
      for (double& c : colour) c = 2.0 * u(rng);
      for (int c = 0; c < kInChannels; ++c)
        for (int y = 0; y < kSide; ++y)
          for (int x = 0; x < kSide; ++x)
            t.at(c, y, x) += colour[c] * std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * r * r));
    }
    out.push_back(std::move(t));
  }
  return out;
}

// Channel c of the tiles [first, first + count) packed into one slot vector.
std::vector<double> pack_channel(const Layout& layout, const std::vector<nn::Tensor>& tiles, std::size_t first,
                                 std::size_t count, int c) {
  std::vector<std::vector<double>> planes;
  for (std::size_t t = first; t < std::min(tiles.size(), first + count); ++t)
    planes.emplace_back(tiles[t].channel(c), tiles[t].channel(c) + tiles[t].plane_size());
  std::vector<const std::vector<double>*> pointers;
  for (const auto& p : planes) pointers.push_back(&p);
  return layout.pack(pointers);
}

TEST(HennChannels, ColourInputAndClassHeadMatchTheReferenceOnThePlainBackend) {
  const nn::Model model = testing::tiny_unet(1, 2, 5, kInChannels, kClasses);
  const Schedule schedule = Schedule::create(model);
  const Layout layout = Layout::create(kSide, kSide, 2048, 1);
  PlainBackend be(layout.slots, testing::fake_primes(schedule.levels));
  const int lanes = 2, per_lane = 3;
  const auto images = colour_images(lanes * per_lane, 9);
  std::vector<std::vector<nn::Tensor>> reference;
  for (const auto& img : images) reference.push_back(nn::forward(model, img));
  std::vector<PlainBackend::Value> inputs;  // lane by lane, channel by channel
  for (int lane = 0; lane < lanes; ++lane)
    for (int c = 0; c < kInChannels; ++c)
      inputs.push_back(be.encrypt(pack_channel(layout, images, lane * per_lane, per_lane, c), schedule.levels, 0x1p32));
  int reported = 0;
  auto on_node = [&](int node, double, const LaneMaps<PlainBackend::Value>& out) {
    std::vector<DecodedMap> maps;
    for (const auto& m : out) maps.push_back(decode_map(m, [](const PlainBackend::Value& v) { return v.slots; }));
    std::vector<std::vector<const nn::Tensor*>> refs(lanes);
    for (int lane = 0; lane < lanes; ++lane)
      for (int b = 0; b < per_lane; ++b) refs[lane].push_back(&reference[lane * per_lane + b][node]);
    EXPECT_LT(max_abs_error(layout, maps, refs), 1e-5) << "node " << node;
    ++reported;
  };
  LayerOptions options;
  options.weight_bits = 24;
  const auto out = run_network(be, model, layout, inputs, options, on_node);
  EXPECT_GT(reported, 5);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(lanes * kClasses));
  for (int lane = 0; lane < lanes; ++lane)
    for (int k = 0; k < kClasses; ++k)
      for (int b = 0; b < per_lane; ++b) {
        const auto got = layout.unpack(out[lane * kClasses + k].slots, b);
        const nn::Tensor& want = reference[lane * per_lane + b].back();
        for (std::size_t p = 0; p < got.size(); ++p) ASSERT_NEAR(got[p], want.channel(k)[p], 1e-5);
      }

  std::vector<PlainBackend::Value> ragged(inputs.begin(), inputs.begin() + kInChannels + 1);
  EXPECT_THROW(run_network(be, model, layout, ragged, options), std::invalid_argument);  // not whole lanes
}

TEST(HennChannels, EncryptedColourThreeClassModelDecryptsToTheArgmaxLabels) {
  const nn::Model model = testing::tiny_unet(1, 2, 5, kInChannels, kClasses);
  const InferencePlan plan = plan_inference(model, kSide, kSide);
  ASSERT_EQ(plan.spec.log_n, 15);
  auto [client, eval] = generate_keys(plan);

  // Two tile groups: the lanes interleave at stride 2, and each group is a team of 3 input ciphertexts.
  const auto images = colour_images(plan.layout.tiles_per_ciphertext + 3, 4);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < images.size(); ++i) names.push_back("rgb" + std::to_string(i));
  const EncryptedBatch submitted = encrypt_images(client, images, names, kSide);
  ASSERT_EQ(submitted.ciphertexts.size(), 2u * kInChannels);
  EXPECT_EQ(submitted.channels(), kInChannels);
  {
    const std::string path = ::testing::TempDir() + "henn_channels.ct";
    save_batch(path, *client.context, submitted);
    std::ifstream in(path, std::ios::binary);
    const std::string head(std::istreambuf_iterator<char>(in), {});
    std::istringstream header_bytes(head);
    EXPECT_EQ(read_batch_header(header_bytes).channels, kInChannels);
    // The service judges the channel count from the header alone, before the body arrives.
    const auto upload = read_batch_upload_header(head);
    ASSERT_TRUE(upload.has_value());
    EXPECT_NO_THROW(check_batch_channels(model, *upload));
    EXPECT_THROW(check_batch_channels(testing::tiny_unet(1, 2), *upload), std::invalid_argument);
    std::remove(path.c_str());
  }

  const EncryptedBatch result = run_inference(model, eval, submitted);
  ASSERT_EQ(result.ciphertexts.size(), 2u * kClasses);
  EXPECT_EQ(result.channels(), kClasses);
  EXPECT_THROW(decrypt_logit_maps(client, BatchRecord::of(client, submitted), result), ResultMismatch);
  const BatchRecord record = BatchRecord::of(client, submitted, kClasses);
  EXPECT_THROW(decrypt_logits(client, record, result), std::invalid_argument);  // 3 channels are no plane
  const std::vector<nn::Tensor> logits = decrypt_logit_maps(client, record, result);
  ASSERT_EQ(logits.size(), images.size());

  // The same packed inputs on the exact plaintext backend (the plan's primes and layer options).
  PlainBackend be(plan.layout.slots, [&] {
    std::vector<double> primes;
    for (int l = 0; l <= plan.levels; ++l) primes.push_back(static_cast<double>(client.context->prime(l)));
    return primes;
  }());
  const std::size_t per = plan.layout.tiles_per_ciphertext;
  const int levels = Schedule::create(model).levels;  // run_inference drops its inputs to the model's levels
  std::vector<PlainBackend::Value> inputs;
  for (std::size_t first = 0; first < images.size(); first += per)
    for (int c = 0; c < kInChannels; ++c)
      inputs.push_back(be.encrypt(pack_channel(plan.layout, images, first, per, c), levels, plan.input_scale));
  const auto plain = run_network(be, model, plan.layout, inputs, plan.layer);
  ASSERT_EQ(plain.size(), 2u * kClasses);

  double worst = 0, range = 0;
  int decided = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const nn::Tensor reference = nn::forward_output(model, images[i]);
    ASSERT_EQ(logits[i].channels, kClasses);
    for (int k = 0; k < kClasses; ++k) {
      const auto expected = plan.layout.unpack(plain[(i / per) * kClasses + k].slots, static_cast<int>(i % per));
      for (std::size_t p = 0; p < expected.size(); ++p) {
        worst = std::max(worst, std::abs(logits[i].channel(k)[p] - expected[p]));
        range = std::max(range, std::abs(expected[p]));
      }
    }
    // Where the reference's best class leads by more than the error bound, the decrypted labels agree.
    const io::LabelImage labels = nn::class_labels(logits[i]);
    const io::LabelImage truth = nn::class_labels(reference);
    for (std::size_t p = 0; p < labels.pixels.size(); ++p) {
      double best = -INFINITY, second = -INFINITY;
      for (int k = 0; k < kClasses; ++k) {
        const double v = reference.channel(k)[p];
        if (v > best) second = std::exchange(best, v);
        else second = std::max(second, v);
      }
      if (best - second < 1e-2 * std::max(1.0, range)) continue;
      EXPECT_EQ(labels.pixels[p], truth.pixels[p]) << "image " << i << " pixel " << p;
      ++decided;
    }
  }
  std::printf("3 colour channels in, 3 classes out: max abs error %.2e vs the plain backend, max|logit| %.1f; "
              "%d pixels decided\n", worst, range, decided);
  // The tiny U-Net's bound (test_encrypted_unet.cpp): ~1e-5 to 2e-4 relative, a layout mistake is of order 1.
  EXPECT_LT(worst, 5e-4 * std::max(1.0, range));
  EXPECT_GT(decided, static_cast<int>(images.size()) * kSide * kSide / 2);
}

}  // namespace
}  // namespace cryptounet::henn
