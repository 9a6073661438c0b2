// Key switching: rotations by every power of two (both directions) and random steps, conjugation, hoisted
// rotations, key sizes (N = 2^14, scale 2^40; bound 2^-20 on inputs in the unit square).
#include <gtest/gtest.h>

#include <random>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"
#include "test_util.h"

using namespace cryptounet::ckks;
using namespace cryptounet::ckks::test;
using cplx = std::complex<double>;

namespace {

constexpr double kScale = 0x1.0p40, kBound = 0x1.0p-20;

std::vector<cplx> rotated(const std::vector<cplx>& v, int steps) {
  const int n = static_cast<int>(v.size());
  std::vector<cplx> r(n);
  for (int i = 0; i < n; ++i) r[i] = v[((i + steps) % n + n) % n];
  return r;
}

struct KeySwitch : ::testing::Test {
  static void SetUpTestSuite() {
    ctx = context_n14();
    keygen = std::make_unique<KeyGenerator>(ctx);
    const int slots = static_cast<int>(ctx->slot_count());
    for (int p = 1; p < slots; p <<= 1) {
      steps.push_back(p);
      steps.push_back(-p);
    }
    std::mt19937 rng(3);
    for (int i = 0; i < 4; ++i) steps.push_back(static_cast<int>(rng() % slots) - slots / 2);
    gk = keygen->create_galois_keys(steps, /*with_conjugation=*/true);
  }
  static void TearDownTestSuite() { keygen.reset(); }
  Encoder encoder{ctx};
  Encryptor encryptor{ctx, keygen->secret_key()};
  Decryptor decryptor{ctx, keygen->secret_key()};
  Evaluator eval{ctx};
  std::vector<cplx> decrypt(const Ciphertext& ct) { return encoder.decode_complex(decryptor.decrypt(ct)); }

  static inline ContextPtr ctx;
  static inline std::unique_ptr<KeyGenerator> keygen;
  static inline std::vector<int> steps;
  static inline GaloisKeys gk;
};

}  // namespace

TEST_F(KeySwitch, RotationsByPowersOfTwoAndRandomSteps) {
  const auto v = random_complex(ctx->slot_count(), 21);
  for (int level : {ctx->max_level(), 1}) {
    const Ciphertext ct = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), level, kScale));
    for (int step : steps) {
      const Ciphertext r = eval.rotate(ct, step, gk);
      EXPECT_EQ(r.level(), level);
      EXPECT_LE(max_error(decrypt(r), rotated(v, step)), kBound) << "step " << step << " level " << level;
    }
  }
}

TEST_F(KeySwitch, Conjugation) {
  const auto v = random_complex(ctx->slot_count(), 22);
  const Ciphertext ct = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), ctx->max_level(), kScale));
  std::vector<cplx> expected(v.size());
  for (size_t i = 0; i < v.size(); ++i) expected[i] = std::conj(v[i]);
  EXPECT_LE(max_error(decrypt(eval.conjugate(ct, gk)), expected), kBound);
}

TEST_F(KeySwitch, HoistedRotationsMatchSingleRotations) {
  const auto v = random_complex(ctx->slot_count(), 23);
  for (int level : {ctx->max_level(), 2}) {
    const Ciphertext ct = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), level, kScale));
    const std::vector<int> hoisted_steps = {0, 1, 2, 4, 8, -1, -16, steps.back()};
    const auto out = eval.rotate_hoisted(ct, hoisted_steps, gk);
    ASSERT_EQ(out.size(), hoisted_steps.size());
    EXPECT_EQ(out[0].data(), ct.data());  // step 0: a copy
    for (size_t i = 0; i < hoisted_steps.size(); ++i) {
      EXPECT_LE(max_error(decrypt(out[i]), rotated(v, hoisted_steps[i])), kBound) << "step " << hoisted_steps[i];
    }
  }
}

TEST_F(KeySwitch, RotateAndSumMatchesRotationsThenAdditions) {
  const std::vector<int> sum_steps = {1, 0, -16, steps.back(), 1};
  for (int level : {ctx->max_level(), 1}) {
    std::vector<Ciphertext> terms;
    std::vector<cplx> expected(ctx->slot_count());
    Ciphertext reference;
    for (size_t t = 0; t < sum_steps.size(); ++t) {
      const auto v = random_complex(ctx->slot_count(), 40 + static_cast<int>(t));
      terms.push_back(encryptor.encrypt(encoder.encode(std::span<const cplx>(v), level, kScale)));
      const auto r = rotated(v, sum_steps[t]);
      for (size_t k = 0; k < r.size(); ++k) expected[k] += r[k];
      const Ciphertext single = eval.rotate(terms.back(), sum_steps[t], gk);
      if (t == 0)
        reference = single;
      else
        eval.add_inplace(reference, single);
    }
    const Ciphertext sum = eval.rotate_and_sum(terms, sum_steps, gk);
    EXPECT_EQ(sum.level(), level);
    EXPECT_EQ(sum.scale(), kScale);
    const auto got = decrypt(sum);
    EXPECT_LE(max_error(got, expected), kBound) << "level " << level;
    EXPECT_LE(max_error(got, decrypt(reference)), kBound) << "level " << level;
  }
}

TEST_F(KeySwitch, RotateAndSumRefusesMismatchedTerms) {
  const auto v = random_complex(ctx->slot_count(), 50);
  const Ciphertext top = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), ctx->max_level(), kScale));
  const Ciphertext low = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), 1, kScale));
  const Ciphertext other_scale = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), 1, 2 * kScale));
  const std::vector<int> two = {1, 2}, one = {1}, missing = {3, 1};
  EXPECT_THROW(eval.rotate_and_sum(std::vector<Ciphertext>{top, low}, two, gk), std::invalid_argument);
  EXPECT_THROW(eval.rotate_and_sum(std::vector<Ciphertext>{low, other_scale}, two, gk), std::invalid_argument);
  EXPECT_THROW(eval.rotate_and_sum(std::vector<Ciphertext>{low, low}, one, gk), std::invalid_argument);
  EXPECT_THROW(eval.rotate_and_sum(std::vector<Ciphertext>{low, low}, missing, gk), std::invalid_argument);
  EXPECT_THROW(eval.rotate_and_sum(std::vector<Ciphertext>{}, std::vector<int>{}, gk), std::invalid_argument);
}

TEST_F(KeySwitch, MissingKeyIsAClearError) {
  const auto v = random_complex(ctx->slot_count(), 24);
  const Ciphertext ct = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), ctx->max_level(), kScale));
  try {
    eval.rotate(ct, 3, gk);
    ADD_FAILURE() << "rotation without key accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("step 3"), std::string::npos) << e.what();
  }
  const std::vector<int> bad = {1, 3};
  EXPECT_THROW(eval.rotate_hoisted(ct, bad, gk), std::invalid_argument);
}

TEST_F(KeySwitch, KeysAreStoredOnceInNttFormWithTheirSize) {
  const size_t n = ctx->poly_degree();
  const size_t per_key = 2 * static_cast<size_t>(ctx->digit_count(ctx->max_level())) * ctx->prime_count() * n * 8;
  EXPECT_EQ(gk.keys.begin()->second.memory_bytes(), per_key);
  EXPECT_EQ(gk.memory_bytes(), per_key * gk.keys.size());
}

TEST_F(KeySwitch, KeysForLowerLevelsAreSmallerAndServeOnlyThoseLevels) {
  const std::vector<int> five = {5};
  const GaloisKeys low = keygen->create_galois_keys(five, false, /*max_level=*/2);
  const RelinKey low_rk = keygen->create_relin_key(/*max_level=*/2);
  const size_t n = ctx->poly_degree(), k_special = static_cast<size_t>(ctx->special_prime_count());
  EXPECT_EQ(low.memory_bytes(), 2 * static_cast<size_t>(ctx->digit_count(2)) * (3 + k_special) * n * 8);
  EXPECT_LT(low.memory_bytes(), gk.keys.begin()->second.memory_bytes() / 2);
  const auto v = random_complex(ctx->slot_count(), 25, 0.7);
  std::vector<cplx> square(v.size());
  for (size_t i = 0; i < v.size(); ++i) square[i] = v[i] * v[i];
  for (int level : {2, 1}) {
    const Ciphertext ct = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), level, kScale));
    EXPECT_LE(max_error(decrypt(eval.rotate(ct, 5, low)), rotated(v, 5)), kBound) << level;
    EXPECT_LE(max_error(decrypt(eval.multiply_relin(ct, ct, low_rk)), square), kBound) << level;
  }
  const Ciphertext top = encryptor.encrypt(encoder.encode(std::span<const cplx>(v), ctx->max_level(), kScale));
  EXPECT_THROW(eval.rotate(top, 5, low), std::invalid_argument);
  EXPECT_THROW(keygen->create_relin_key(ctx->max_level() + 1), std::invalid_argument);
}
