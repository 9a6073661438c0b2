// The tiny U-Net end to end on ciphertexts (N = 2^15, 64 16x16 images per ciphertext, two ciphertexts so that the
// low-resolution layers run interleaved in two lanes): keygen from the plan, client encryption, server inference with
// evaluation keys only, client decryption; every layer's max abs error against nn::forward is reported and bounded.
#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/ntt.h"
#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/compare.h"
#include "henn/flooding.h"
#include "henn/inference.h"
#include "henn/key_bundle.h"
#include "henn/planner.h"
#include "henn/upload_check.h"
#include "nn/forward.h"
#include "tiny_unet.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <cstdio>
#include <random>

namespace cryptounet::henn {
namespace {

// Smooth random images (like normalized micrographs: blobs on a background), values in about [-2, 2].
std::vector<io::Plane> blob_images(int count, int side, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<io::Plane> out;
  for (int k = 0; k < count; ++k) {
    io::Plane p(side, side, -0.5);
    for (int b = 0; b < 3; ++b) {
      const double cy = u(rng) * side, cx = u(rng) * side, r = 2 + 3 * u(rng);
      for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x)
          p.at(y, x) += 2.0 * std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * r * r));
    }
    out.push_back(std::move(p));
  }
  return out;
}

TEST(HennEncrypted, TinyUnetMatchesPlaintextLayerByLayer) {
  const nn::Model model = testing::tiny_unet(1, 2);
  const int side = 16;
  const InferencePlan plan = plan_inference(model, side, side);
  std::printf("plan: %s\n", plan.describe().c_str());
  ASSERT_EQ(plan.spec.log_n, 15);
  // Through the files of the client/server split: keys/ (secret.key, public.bin), eval.bin, batch files.
  const std::string dir = ::testing::TempDir() + "henn_keys_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);  // saving never replaces an existing secret key
  {
    auto [fresh_client, fresh_eval] = generate_keys(plan);
    save_client_keys(dir, fresh_client);
    save_evaluation_keys(dir + "/eval.bin", fresh_eval);
  }
  const ClientKeys client = load_client_keys(dir);
  const EvaluationKeys eval = load_evaluation_keys(dir + "/eval.bin");
  EXPECT_EQ(eval.plan.rotation_steps, plan.rotation_steps);
  const auto perms = std::filesystem::status(dir + "/secret.key").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);

  const auto images = blob_images(plan.layout.tiles_per_ciphertext + 3, side, 3);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < images.size(); ++i) names.push_back("img" + std::to_string(i));
  const EncryptedBatch submitted = encrypt_images(client, images, names, side);
  save_batch(dir + "/batch.ct", *client.context, submitted);
  const EncryptedBatch batch = load_batch(dir + "/batch.ct", *eval.context);
  ASSERT_EQ(batch.ciphertexts.size(), 2u);

  std::vector<std::vector<nn::Tensor>> reference;
  for (const auto& img : images) reference.push_back(nn::forward(model, nn::Tensor::from_plane(img)));

  ckks::Encoder encoder(client.context);
  ckks::Decryptor decryptor(client.context, client.secret);
  double worst_layer = 0;
  auto debug = [&](const NodeProgress& p) {
    std::vector<DecodedMap> maps;
    for (const auto& m : *p.output)
      maps.push_back(decode_map(m, [&](const ckks::Ciphertext& ct) { return encoder.decode(decryptor.decrypt(ct)); }));
    std::vector<std::vector<const nn::Tensor*>> refs(p.group_size);
    double range = 0;
    for (std::size_t t = 0; t < reference.size(); ++t) {
      refs[t / plan.layout.tiles_per_ciphertext].push_back(&reference[t][p.node]);
      for (double v : reference[t][p.node].data) range = std::max(range, std::abs(v));
    }
    const double err = max_abs_error(plan.layout, maps, refs);
    std::printf("  node %2d %-16s maps %zu lanes %d level %2d  %.2fs  max|ref| %8.3f  max abs error %.2e\n", p.node,
                nn::op_name(p.model_node->op), p.output->size(), p.output->front().lanes,
                p.output->front().channels[0].level(), p.seconds, range, err);
    EXPECT_LT(err, 5e-4 * std::max(1.0, range)) << "node " << p.node;
    worst_layer = std::max(worst_layer, err);
  };
  InferenceStats stats;
  save_batch(dir + "/masks.ct", *eval.context, run_inference(model, eval, batch, debug, &stats));
  const EncryptedBatch out = load_batch(dir + "/masks.ct", *client.context);
  std::filesystem::remove_all(dir);
  std::printf("inference %.1fs, %llu key switches, %llu integer MACs\n", stats.seconds,
              static_cast<unsigned long long>(stats.counts.key_switches),
              static_cast<unsigned long long>(stats.counts.integer_macs));

  const auto logits = decrypt_logits(client, BatchRecord::of(client, submitted), out);
  ASSERT_EQ(logits.size(), images.size());
  double worst = 0, range = 0;
  for (std::size_t i = 0; i < images.size(); ++i)
    for (std::size_t k = 0; k < logits[i].pixels.size(); ++k) {
      worst = std::max(worst, std::abs(logits[i].pixels[k] - reference[i].back().data[k]));
      range = std::max(range, std::abs(reference[i].back().data[k]));
    }
  std::printf("final logits: max abs error %.2e, max|ref| %.1f (worst layer %.2e)\n", worst, range, worst_layer);
  // The random untrained network's activations grow large (squares); errors are ~1e-5 to 2e-4 relative (each
  // square doubles the relative error), any layout mistake gives errors of order 1.
  EXPECT_LT(worst, 5e-4 * std::max(1.0, range));

  // The result's error term in the coefficient domain (what flooding has to hide): decryption minus the encoding of
  // the plaintext logits, at level 0.
  std::vector<nn::Tensor> reference_tiles;
  for (const auto& r : reference) reference_tiles.push_back(r.back());
  double max_error_coefficient = 0;
  for (std::size_t c = 0; c < out.ciphertexts.size(); ++c) {
    std::vector<const std::vector<double>*> group;
    const std::size_t per = plan.layout.tiles_per_ciphertext;
    for (std::size_t t = c * per; t < std::min(reference_tiles.size(), (c + 1) * per); ++t)
      group.push_back(&reference_tiles[t].data);
    const ckks::Ciphertext& ct = out.ciphertexts[c];
    ckks::Plaintext diff = decryptor.decrypt(ct);
    const ckks::Plaintext expected = encoder.encode(plan.layout.pack(group), ct.level(), ct.scale());
    const std::uint64_t q = client.context->prime(0);
    for (std::size_t j = 0; j < diff.poly_degree(); ++j)
      diff.limb(0)[j] = (diff.limb(0)[j] + q - expected.limb(0)[j]) % q;
    ckks::ntt_inverse(diff.limb(0), client.context->ntt(0));
    for (std::size_t j = 0; j < diff.poly_degree(); ++j) {
      const std::uint64_t v = diff.limb(0)[j];
      max_error_coefficient = std::max(max_error_coefficient, static_cast<double>(v > q / 2 ? q - v : v));
    }
  }
  std::printf("result error term: max |coefficient| 2^%.1f (N = 2^%d, scale 2^%.0f)\n",
              std::log2(max_error_coefficient), plan.spec.log_n, std::log2(out.ciphertexts[0].scale()));

  // Flooding: uniform noise in [-2^B, 2^B) per coefficient moves each decrypted value by a sum of N bounded
  // independent terms of magnitude <= 2^B / scale, so by Hoeffding beyond 8 sqrt(N) 2^B / scale with probability
  // below 2 e^-64 per value (rms sqrt(N/6) 2^B / scale).
  const BatchRecord record = BatchRecord::of(client, submitted);
  const double n = static_cast<double>(client.context->slot_count() * 2);
  for (int bits : {8, 16, 20, 24, 28}) {
    EncryptedBatch flooded = out;
    flood_noise(*eval.context, flooded, bits);
    const auto noisy = decrypt_logits(client, record, flooded);
    double flooded_error = 0, moved = 0;
    for (std::size_t i = 0; i < images.size(); ++i)
      for (std::size_t k = 0; k < noisy[i].pixels.size(); ++k) {
        flooded_error = std::max(flooded_error, std::abs(noisy[i].pixels[k] - reference[i].back().data[k]));
        moved = std::max(moved, std::abs(noisy[i].pixels[k] - logits[i].pixels[k]));
      }
    const double rms = std::sqrt(n / 6) * std::ldexp(1.0, bits) / out.ciphertexts[0].scale();
    std::printf("flooding %2d bits: max abs logit error %.2e vs plaintext, moved by up to %.2e (rms %.2e)\n", bits,
                flooded_error, moved, rms);
    if (bits == 16) {
      EXPECT_LT(flooded_error, worst + 8 * std::sqrt(n) * std::ldexp(1.0, bits) / out.ciphertexts[0].scale());
      EXPECT_GT(moved, rms / 4) << "no noise was added";
    }
  }
}

TEST(HennPlanner, RefusesAModelTooDeepFor128BitSecurity) {
  const nn::Model deep = testing::tiny_unet(9, 1);  // 86 levels: 60 + 86 x 40 + 60 = 3560 bits > 3523 at N = 2^17
  try {
    plan_inference(deep, 512, 512);
    FAIL() << "an 86-level model must not fit";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit at 128-bit security"), std::string::npos) << e.what();
  }
}

TEST(HennPlanner, DefaultShapedModelFitsN16WithFewKeys) {
  const nn::Model model = testing::tiny_unet(2, 8);
  const InferencePlan plan = plan_inference(model, 128, 128);
  EXPECT_EQ(plan.spec.log_n, 16);
  EXPECT_EQ(plan.levels, 23);
  EXPECT_EQ(plan.layout.tiles_per_ciphertext, 2);
  EXPECT_LE(ckks::log_qp_bits(plan.spec), ckks::max_log_qp_128bit(16));
  EXPECT_EQ(plan.rotation_steps.size(), 24u);
  EXPECT_LT(plan.key_bytes_estimate(), 4.0 * (1u << 30));
  std::printf("%s\n", plan.describe().c_str());
}

// Each Galois key holds the primes of the levels its step is used at and no more: stride 1 from the input (level
// 23), stride 2 after the first stage (19), stride 4 after the second (15); relinearization from level 22. A server
// refuses keys with more levels than that (memory for nothing) or fewer (inference would fail).
TEST(HennPlanner, KeysServeOnlyTheLevelsTheirStepsAreUsedAt) {
  const nn::Model model = testing::tiny_unet(2, 8);
  const InferencePlan plan = plan_inference(model, 128, 128);
  ASSERT_EQ(plan.rotation_levels.size(), plan.rotation_steps.size());
  std::map<int, int> keys_at;
  for (int level : plan.rotation_levels) ++keys_at[level];
  EXPECT_EQ(keys_at, (std::map<int, int>{{15, 8}, {19, 8}, {23, 8}}));
  EXPECT_EQ(plan.relin_level, 22);
  // Per key digits x (limbs + P) at 2^16 x 8 bytes x 2: 8 x 2 x 36 + 8 x 2 x 32 + 8 x 2 x 28 + 2 x 35 = 1606 MiB
  // (25 top-level keys: 1800 MiB).
  EXPECT_DOUBLE_EQ(plan.key_bytes_estimate(), 1606.0 * (1 << 20));
  EXPECT_NO_THROW(check_plan(model, plan));

  InferencePlan more = plan;
  ++more.rotation_levels.front();
  EXPECT_THROW(check_plan(model, more), std::invalid_argument);
  EXPECT_NO_THROW(check_plan_capacity(model, more));  // enough for inference, refused for an upload
  InferencePlan fewer = plan;
  --fewer.rotation_levels.back();
  EXPECT_THROW(check_plan_capacity(model, fewer), std::invalid_argument);
  InferencePlan relin = plan;
  --relin.relin_level;
  EXPECT_THROW(check_plan_capacity(model, relin), std::invalid_argument);
}

TEST(HennPlanner, MovesToN17WhenTheLevelsExceedN16) {
  // 41 levels: 50 + 41 x 40 = 1690 bits of Q leave 57 bits for P at N = 2^16, one 50-bit special prime: 42 digits.
  const nn::Model model = testing::tiny_unet(4, 2);
  const InferencePlan plan = plan_inference(model, 128, 128);
  EXPECT_EQ(plan.levels, 41);
  EXPECT_EQ(plan.spec.log_n, 17);
  EXPECT_LE(ckks::log_qp_bits(plan.spec), ckks::max_log_qp_128bit(17));
  EXPECT_NE(plan.smaller_rings_refused.find(
                "N=2^16: 57 bits left for P, too few 50-bit special primes for at most 16 key-switching digits"),
            std::string::npos)
      << plan.smaller_rings_refused;
  // Same block per tile as at N = 2^16, twice the slots: four 128x128 tiles per ciphertext instead of two.
  EXPECT_EQ(plan.layout.block, 128 * 128);
  EXPECT_EQ(plan.layout.tiles_per_ciphertext, 4);
  // Room under the larger bound (1833 bits: up to 36 special primes of 50 bits) for 21 special primes: two
  // key-switching digits over the 42 primes of Q.
  EXPECT_EQ(plan.spec.p_bits.size(), 21u);
  EXPECT_EQ(plan.spec.q_bits.size(), 42u);
  EXPECT_GT(plan.feature_map_bytes_estimate, 0);
  std::printf("%s\n", plan.describe().c_str());
}

TEST(HennPlanner, MovesToN17ForATileLargerThanN16Slots) {
  const InferencePlan plan = plan_inference(testing::tiny_unet(2, 2), 256, 256);
  EXPECT_EQ(plan.spec.log_n, 17);
  EXPECT_EQ(plan.layout.tiles_per_ciphertext, 1);
  EXPECT_NE(plan.smaller_rings_refused.find("N=2^16: a tile needs 65536 slots > 32768"), std::string::npos)
      << plan.smaller_rings_refused;
}

TEST(HennPlanner, MemoryEstimateCountsKeysAndLiveFeatureMaps) {
  const nn::Model model = testing::tiny_unet(2, 8);
  const InferencePlan n16 = plan_inference(model, 128, 128);
  PlanOptions forced;
  forced.log_n = 17;
  const InferencePlan n17 = plan_inference(model, 128, 128, forced);
  EXPECT_EQ(n16.memory_bytes_estimate(), n16.key_bytes_estimate() + n16.feature_map_bytes_estimate);
  // The same maps in a ring twice as large: exactly twice the bytes (same levels, same lanes).
  EXPECT_EQ(n17.feature_map_bytes_estimate, 2 * n16.feature_map_bytes_estimate);
  // At least the network input and the widest map: 4 lanes x 8 channels at the top level.
  EXPECT_GE(n16.feature_map_bytes_estimate, 4.0 * 8 * 2 * (n16.levels + 1) * 65536 * 8);
}

}  // namespace
}  // namespace cryptounet::henn
