// Encoder, encryption and every evaluator operation against the same arithmetic on complex vectors, with stated
// bounds (N = 2^14, scale 2^40 unless noted).
#include <gtest/gtest.h>

#include <omp.h>

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

constexpr double kScale = 0x1.0p40;

struct Fixture : ::testing::Test {
  static void SetUpTestSuite() {
    ctx = context_n14();
    keygen = std::make_unique<KeyGenerator>(ctx);
    pk = keygen->create_public_key();
    rk = keygen->create_relin_key();
  }
  static void TearDownTestSuite() { keygen.reset(); }
  Encoder encoder{ctx};
  Encryptor encryptor{ctx, pk};
  Decryptor decryptor{ctx, keygen->secret_key()};
  Evaluator eval{ctx};
  size_t slots = ctx->slot_count();
  int top = ctx->max_level();

  Ciphertext encrypt(const std::vector<cplx>& v, int level, double scale = kScale) {
    return encryptor.encrypt(encoder.encode(std::span<const cplx>(v), level, scale));
  }
  std::vector<cplx> decrypt(const Ciphertext& ct) { return encoder.decode_complex(decryptor.decrypt(ct)); }

  static inline ContextPtr ctx;
  static inline std::unique_ptr<KeyGenerator> keygen;
  static inline PublicKey pk;
  static inline RelinKey rk;
};

using CkksOps = Fixture;

}  // namespace

TEST_F(CkksOps, EncodeDecodeIsExactScaleAndAccurate) {
  const auto v = random_complex(slots, 1);
  for (int level : {0, 3, top}) {
    for (double scale : {0x1.0p30, kScale, 0x1.0p55}) {
      const Plaintext pt = encoder.encode(std::span<const cplx>(v), level, scale);
      EXPECT_EQ(pt.scale(), scale);
      EXPECT_EQ(pt.level(), level);
      EXPECT_LE(max_error(encoder.decode_complex(pt), v), std::max(1e-12, 64.0 / scale * std::sqrt(slots)));  // rounding
    }
  }
  // Real inputs shorter than slot_count() are zero-padded.
  const std::vector<double> r = {0.5, -0.25, 1.0};
  const auto decoded = encoder.decode(encoder.encode(std::span<const double>(r), top, kScale));
  EXPECT_NEAR(decoded[0], 0.5, 1e-9);
  EXPECT_NEAR(decoded[2], 1.0, 1e-9);
  EXPECT_NEAR(decoded[3], 0.0, 1e-9);
  EXPECT_THROW(encoder.encode(std::span<const double>(std::vector<double>(slots + 1)), top, kScale),
               std::invalid_argument);
}

// Secret-key encryption adds only e (sigma 3.2): <= 2^-25 at scale 2^40. Public-key encryption adds v*e + e0 + e1*s,
// coefficient std ~ 3.2 * sqrt(4N/3) ~ 470 at N = 2^14, i.e. a slot std ~ 470 * sqrt(N) / 2^40 ~ 2^-24: <= 2^-21.
TEST_F(CkksOps, FreshEncryptionError) {
  const auto v = random_complex(slots, 2);
  EXPECT_LE(max_error(decrypt(encrypt(v, top)), v), 0x1.0p-21);
  Encryptor symmetric(ctx, keygen->secret_key());
  const Ciphertext ct = symmetric.encrypt(encoder.encode(std::span<const cplx>(v), top, kScale));
  EXPECT_TRUE(ct.seed().has_value());
  EXPECT_LE(max_error(decrypt(ct), v), 0x1.0p-25);
  EXPECT_LE(max_error(decrypt(encrypt(v, 0)), v), 0x1.0p-21);
}

TEST_F(CkksOps, AddSubNegateConstants) {
  const auto a = random_complex(slots, 3), b = random_complex(slots, 4);
  const Ciphertext ca = encrypt(a, top), cb = encrypt(b, top);
  std::vector<cplx> sum(slots), diff(slots), neg(slots), plus_const(slots);
  for (size_t i = 0; i < slots; ++i) {
    sum[i] = a[i] + b[i];
    diff[i] = a[i] - b[i];
    neg[i] = -a[i];
    plus_const[i] = a[i] + 0.75;
  }
  constexpr double bound = 0x1.0p-20;  // two public-key encryption errors
  EXPECT_LE(max_error(decrypt(eval.add(ca, cb)), sum), bound);
  EXPECT_LE(max_error(decrypt(eval.sub(ca, cb)), diff), bound);
  EXPECT_LE(max_error(decrypt(eval.negate(ca)), neg), bound);
  EXPECT_LE(max_error(decrypt(eval.add_const(ca, 0.75)), plus_const), bound);
  const Plaintext pb = encoder.encode(std::span<const cplx>(b), top, kScale);
  EXPECT_LE(max_error(decrypt(eval.add_plain(ca, pb)), sum), bound);
  EXPECT_LE(max_error(decrypt(eval.sub_plain(ca, pb)), diff), bound);
}

TEST_F(CkksOps, MismatchedLevelOrScaleIsAClearError) {
  const auto a = random_complex(slots, 5);
  const Ciphertext ca = encrypt(a, top), low = encrypt(a, top - 1), other_scale = encrypt(a, top, 0x1.0p39);
  EXPECT_THROW(eval.add(ca, low), std::invalid_argument);
  EXPECT_THROW(eval.add(ca, other_scale), std::invalid_argument);
  try {
    eval.add(ca, other_scale);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("scale mismatch"), std::string::npos);
  }
  // Within the documented relative tolerance of 1e-9 the scales are equal.
  Ciphertext nearly = ca;
  nearly.set_scale(kScale * (1 + 1e-12));
  EXPECT_NO_THROW(eval.add(ca, nearly));
  EXPECT_THROW(eval.multiply_relin(ca, low, rk), std::invalid_argument);
  EXPECT_THROW(eval.rescale(encrypt(a, 0)), std::invalid_argument);
}

TEST_F(CkksOps, MulPlainIntConstAndRescale) {
  const auto a = random_complex(slots, 6), b = random_complex(slots, 7);
  const Ciphertext ca = encrypt(a, top);
  std::vector<cplx> prod(slots), times_int(slots), times_const(slots);
  for (size_t i = 0; i < slots; ++i) {
    prod[i] = a[i] * b[i];
    times_int[i] = a[i] * -7.0;
    times_const[i] = a[i] * 0.3;
  }
  const Plaintext pb = encoder.encode(std::span<const cplx>(b), top, static_cast<double>(ctx->prime(top)));
  Ciphertext m = eval.mul_plain(ca, pb);
  EXPECT_DOUBLE_EQ(m.scale(), kScale * static_cast<double>(ctx->prime(top)));
  m = eval.rescale(m);
  EXPECT_EQ(m.level(), top - 1);
  EXPECT_NEAR(m.scale(), kScale, kScale * 1e-12);
  EXPECT_LE(max_error(decrypt(m), prod), 0x1.0p-20);
  EXPECT_LE(max_error(decrypt(eval.mul_int(ca, -7)), times_int), 7 * 0x1.0p-21);
  const Ciphertext c = eval.rescale(eval.mul_const(ca, 0.3));
  EXPECT_LE(max_error(decrypt(c), times_const), 0x1.0p-21);
  const Ciphertext d = eval.drop_to_level(ca, 2);
  EXPECT_EQ(d.level(), 2);
  EXPECT_LE(max_error(decrypt(d), a), 0x1.0p-21);
}

TEST_F(CkksOps, MultiplyRelinRescaleChain) {
  const auto a = random_complex(slots, 8, 0.7), b = random_complex(slots, 9, 0.7);  // |z| < 1
  Ciphertext ca = encrypt(a, top), cb = encrypt(b, top);
  std::vector<cplx> expected(slots);
  for (size_t i = 0; i < slots; ++i) expected[i] = a[i] * b[i];
  // Before the rescale the message is ~2^80, above q_0 (60 bits): decoding needs the full CRT composition.
  const Ciphertext unscaled = eval.multiply_relin(ca, cb, rk);
  EXPECT_LE(max_error(decrypt(unscaled), expected), 0x1.0p-20);
  Ciphertext prod = eval.rescale(unscaled);
  EXPECT_LE(max_error(decrypt(prod), expected), 0x1.0p-20);
  // Squares down to level 0 (values stay in the unit disc).
  Ciphertext x = ca;
  std::vector<cplx> ref = a;
  while (x.level() > 0) {
    x = eval.rescale(eval.square_relin(x, rk));
    for (auto& v : ref) v *= v;
  }
  EXPECT_LE(max_error(decrypt(x), ref), 0x1.0p-16);
}

TEST_F(CkksOps, ResultsDoNotDependOnThreadCount) {
  const auto a = random_complex(slots, 10);
  const Ciphertext ca = encrypt(a, top);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const Ciphertext one = eval.rescale(eval.multiply_relin(ca, ca, rk));
  omp_set_num_threads(2);
  const Ciphertext two = eval.rescale(eval.multiply_relin(ca, ca, rk));
  omp_set_num_threads(saved);
  EXPECT_EQ(one.data(), two.data());
}
