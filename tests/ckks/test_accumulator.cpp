// LinearAccumulator: lazy sums of integer and plaintext products against the plaintext computation.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"
#include "ckks/linear_accumulator.h"
#include "test_util.h"

using namespace cryptounet::ckks;
using namespace cryptounet::ckks::test;

namespace {

constexpr double kScale = 0x1.0p40;

struct Accumulator : ::testing::Test {
  static void SetUpTestSuite() {
    ctx = context_n14();
    keygen = std::make_unique<KeyGenerator>(ctx);
  }
  static void TearDownTestSuite() { keygen.reset(); }
  Encoder encoder{ctx};
  Encryptor encryptor{ctx, keygen->secret_key()};
  Decryptor decryptor{ctx, keygen->secret_key()};
  Evaluator eval{ctx};
  size_t slots = ctx->slot_count();
  static inline ContextPtr ctx;
  static inline std::unique_ptr<KeyGenerator> keygen;
};

}  // namespace

TEST_F(Accumulator, IntegerTermsWithIntegerScale) {
  // sum_i (c_i / 2^12) * x_i over 40 terms with |c_i| < 2^12; at level 1 the 60-bit q_0 limb must be reduced
  // lazily every 15 terms, the 40-bit limb never.
  constexpr int kTerms = 40;
  const double integer_scale = 4096.0;
  std::mt19937 rng(5);
  for (int level : {1, ctx->max_level()}) {
    LinearAccumulator acc(ctx, level, integer_scale);
    std::vector<double> expected(slots, 0.0);
    for (int t = 0; t < kTerms; ++t) {
      const auto x = random_real(slots, 100 + t);
      const int64_t c = static_cast<int64_t>(rng() % 8191) - 4095;
      acc.add_int(encryptor.encrypt(encoder.encode(std::span<const double>(x), level, kScale)), c);
      for (size_t i = 0; i < slots; ++i) expected[i] += x[i] * static_cast<double>(c) / integer_scale;
    }
    EXPECT_EQ(acc.term_count(), static_cast<size_t>(kTerms));
    EXPECT_EQ(acc.memory_bytes(), 2 * static_cast<size_t>(level + 1) * ctx->poly_degree() * 8);  // one ciphertext
    const Ciphertext sum = acc.finish();
    EXPECT_DOUBLE_EQ(sum.scale(), kScale * integer_scale);
    EXPECT_LE(max_error(encoder.decode(decryptor.decrypt(sum)), expected), 0x1.0p-20);
    EXPECT_EQ(acc.term_count(), 0u);
  }
}

TEST_F(Accumulator, PlaintextTermsThenRescale) {
  constexpr int kTerms = 12;
  const int level = ctx->max_level();
  LinearAccumulator acc(ctx, level);
  std::vector<double> expected(slots, 0.0);
  const double pt_scale = static_cast<double>(ctx->prime(level));
  for (int t = 0; t < kTerms; ++t) {
    const auto x = random_real(slots, 200 + t), w = random_real(slots, 300 + t);
    // Ciphertexts from a higher level are accepted (extra limbs ignored): encode plaintexts at the top level.
    acc.add_plain(encryptor.encrypt(encoder.encode(std::span<const double>(x), level, kScale)),
                  encoder.encode(std::span<const double>(w), level, pt_scale));
    for (size_t i = 0; i < slots; ++i) expected[i] += x[i] * w[i];
  }
  const Ciphertext sum = eval.rescale(acc.finish());
  EXPECT_NEAR(sum.scale(), kScale, kScale * 1e-12);
  EXPECT_LE(max_error(encoder.decode(decryptor.decrypt(sum)), expected), 0x1.0p-20);
}

TEST_F(Accumulator, MatchesEvaluatorExactly) {
  // The lazy sum is bit-identical to mul_int + add with a reduction per term.
  const int level = 2;
  const auto x = random_real(slots, 7), y = random_real(slots, 8);
  const Ciphertext cx = encryptor.encrypt(encoder.encode(std::span<const double>(x), level, kScale));
  const Ciphertext cy = encryptor.encrypt(encoder.encode(std::span<const double>(y), level, kScale));
  LinearAccumulator acc(ctx, level);
  for (int t = 0; t < 20; ++t) {
    acc.add_int(cx, -(1 << 30) + t);
    acc.add_int(cy, (1 << 30) - 3 * t);
  }
  Ciphertext expected = eval.mul_int(cx, 0);
  for (int t = 0; t < 20; ++t) {
    eval.add_inplace(expected, eval.mul_int(cx, -(1 << 30) + t));
    eval.add_inplace(expected, eval.mul_int(cy, (1 << 30) - 3 * t));
  }
  EXPECT_EQ(acc.finish().data(), expected.data());
}

TEST_F(Accumulator, RowsOfWeightedSumsMatchTheEvaluatorExactly) {
  // 3 accumulators x 120 terms: groups of 16, two passes of 112 columns, zero coefficients skipped, and the 60-bit
  // q_0 limb reduced between passes; bit-identical to mul_int + add.
  constexpr int kTerms = 120, kRows = 3;
  const int level = 1;
  std::vector<Ciphertext> terms;
  std::vector<const Ciphertext*> term_ptrs;
  for (int t = 0; t < kTerms; ++t)
    terms.push_back(encryptor.encrypt(encoder.encode(std::span<const double>(random_real(slots, 400 + t)), level,
                                                     kScale)));
  for (const auto& t : terms) term_ptrs.push_back(&t);
  std::mt19937 rng(11);
  std::vector<int64_t> coefficients(kRows * kTerms);
  for (auto& c : coefficients) c = rng() % 5 == 0 ? 0 : static_cast<int64_t>(rng() % (1u << 31)) - (1 << 30);
  std::vector<LinearAccumulator> accs(kRows, LinearAccumulator(ctx, level));
  std::vector<LinearAccumulator*> acc_ptrs;
  for (auto& a : accs) acc_ptrs.push_back(&a);
  LinearAccumulator::add_int_rows(acc_ptrs, term_ptrs, coefficients);
  for (int r = 0; r < kRows; ++r) {
    Ciphertext expected = eval.mul_int(terms[0], 0);
    for (int t = 0; t < kTerms; ++t) eval.add_inplace(expected, eval.mul_int(terms[t], coefficients[r * kTerms + t]));
    EXPECT_EQ(accs[r].term_count(), static_cast<size_t>(kTerms));
    EXPECT_EQ(accs[r].finish().data(), expected.data()) << r;
  }
  // Only zero coefficients: the zero ciphertext at the terms' scale.
  LinearAccumulator zero(ctx, level);
  LinearAccumulator* zero_row = &zero;
  LinearAccumulator::add_int_rows({&zero_row, 1}, term_ptrs, std::vector<int64_t>(kTerms, 0));
  const Ciphertext z = zero.finish();
  EXPECT_DOUBLE_EQ(z.scale(), kScale);
  EXPECT_TRUE(std::all_of(z.data().begin(), z.data().end(), [](uint64_t c) { return c == 0; }));
  EXPECT_THROW(LinearAccumulator::add_int_rows(acc_ptrs, term_ptrs, std::span(coefficients).first(kTerms)),
               std::invalid_argument);
}

TEST_F(Accumulator, RejectsMismatchedScalesAndLevels) {
  const auto x = random_real(slots, 9);
  LinearAccumulator acc(ctx, 2, 256.0);
  const Ciphertext a = encryptor.encrypt(encoder.encode(std::span<const double>(x), 2, kScale));
  const Ciphertext b = encryptor.encrypt(encoder.encode(std::span<const double>(x), 2, 0x1.0p41));
  const Ciphertext low = encryptor.encrypt(encoder.encode(std::span<const double>(x), 1, kScale));
  acc.add_int(a, 3);
  EXPECT_THROW(acc.add_int(b, 3), std::invalid_argument);
  EXPECT_THROW(acc.add_int(low, 3), std::invalid_argument);
  EXPECT_THROW(acc.add_int(a, int64_t{1} << 31), std::invalid_argument);
  // A plaintext term with the same result scale is fine: 2^40 * 256 == 2^40 * 2^8.
  EXPECT_NO_THROW(acc.add_plain(a, encoder.encode(std::span<const double>(x), 2, 256.0)));
  EXPECT_THROW(acc.add_plain(a, encoder.encode(std::span<const double>(x), 2, 512.0)), std::invalid_argument);
  LinearAccumulator empty(ctx, 0);
  EXPECT_THROW(empty.finish(), std::logic_error);
}
