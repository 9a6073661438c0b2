// Parameter generation and the 128-bit security validation.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "ckks/context.h"
#include "ckks/params.h"

using namespace cryptounet::ckks;

TEST(Parameters, RefusesSetsAboveThe128BitBound) {
  const std::pair<int, int> bounds[] = {{13, 218}, {14, 438}, {15, 881}, {16, 1747}, {17, 3523}};
  for (auto [log_n, bound] : bounds) {
    EXPECT_EQ(max_log_qp_128bit(log_n), bound);
    ParameterSpec spec{log_n, {}, {60}};
    int total = 60;
    while (total + 50 <= bound) {
      spec.q_bits.push_back(50);
      total += 50;
    }
    EXPECT_NO_THROW(Parameters::create(spec)) << "log_n " << log_n;
    spec.q_bits.push_back(60);  // now above the bound
    try {
      Parameters::create(spec);
      ADD_FAILURE() << "insecure set accepted for log_n " << log_n;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(bound)), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(Parameters::create({12, {40}, {40}}), std::invalid_argument);
  EXPECT_THROW(Parameters::create({18, {40}, {40}}), std::invalid_argument);
  EXPECT_THROW(Parameters::create({14, {61, 40}, {60}}), std::invalid_argument);
  EXPECT_THROW(Parameters::create({14, {60, 40}, {}}), std::invalid_argument);
}

// The bound is inclusive, to the bit: OpenFHE 1.5.1 allows log2(QP) = 1747 at N = 2^16 and 3523 at N = 2^17
// (ternary secret, 128-bit classical).
TEST(Parameters, BoundIsExactAtTwoToTheSixteenAndSeventeen) {
  ParameterSpec at16{16, std::vector<int>(27, 60), {60}};
  at16.q_bits.insert(at16.q_bits.end(), {40, 27});  // 27 * 60 + 40 + 27 + 60 = 1747
  ASSERT_EQ(log_qp_bits(at16), 1747);
  EXPECT_NO_THROW(Parameters::create(at16));
  at16.q_bits.back() = 28;
  EXPECT_THROW(Parameters::create(at16), std::invalid_argument);

  ParameterSpec at17{17, std::vector<int>(57, 60), {60}};
  at17.q_bits.push_back(43);  // 57 * 60 + 43 + 60 = 3523
  ASSERT_EQ(log_qp_bits(at17), 3523);
  EXPECT_NO_THROW(Parameters::create(at17));
  at17.q_bits.back() = 44;
  EXPECT_THROW(Parameters::create(at17), std::invalid_argument);
}

TEST(Parameters, PrimesAreDeterministicNttFriendlyAndDistinct) {
  const ParameterSpec spec{15, {60, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40}, {60, 60, 60}};
  const Parameters a = Parameters::create(spec), b = Parameters::create(spec);
  EXPECT_EQ(a.q(), b.q());
  EXPECT_EQ(a.p(), b.p());
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.digit_count(), 6);  // ceil(17 / 3)
  EXPECT_LE(a.log_qp(), 881.0);
  std::set<uint64_t> seen;
  const uint64_t two_n = uint64_t{2} << 15;
  for (const auto* primes : {&a.q(), &a.p()}) {
    for (size_t i = 0; i < primes->size(); ++i) {
      const uint64_t q = (*primes)[i];
      EXPECT_TRUE(is_prime(q));
      EXPECT_EQ(q % two_n, 1u);
      EXPECT_TRUE(seen.insert(q).second) << "repeated prime " << q;
    }
  }
  for (size_t i = 1; i < a.q().size(); ++i) EXPECT_EQ(64 - __builtin_clzll(a.q()[i]), 40);
  const Parameters other = Parameters::create({15, {60, 40}, {60}});
  EXPECT_NE(a.fingerprint(), other.fingerprint());
}

TEST(Parameters, ContextGaloisPermutationIsAutomorphism) {
  // Checks the NTT-form permutation against X -> X^g applied to coefficients.
  const auto ctx = Context::create(Parameters::create({13, {50, 40}, {50}}));
  const size_t n = ctx->poly_degree();
  const uint64_t q = ctx->prime(0);
  std::vector<uint64_t> a(n);
  for (size_t k = 0; k < n; ++k) a[k] = (k * 7919 + 13) % q;
  for (uint64_t g : {ctx->galois_element(1), ctx->galois_element(-3), ctx->conjugation_element()}) {
    std::vector<uint64_t> expected(n, 0);
    for (size_t k = 0; k < n; ++k) {
      const uint64_t e = k * g % (2 * n);
      if (e < n)
        expected[e] = a[k];
      else
        expected[e - n] = (q - a[k]) % q;
    }
    std::vector<uint64_t> a_ntt = a;
    ntt_forward(a_ntt.data(), ctx->ntt(0));
    const auto perm = ctx->galois_permutation_ntt(g);
    std::vector<uint64_t> out(n);
    for (size_t k = 0; k < n; ++k) out[k] = a_ntt[perm[k]];
    ntt_inverse(out.data(), ctx->ntt(0));
    EXPECT_EQ(out, expected) << "g = " << g;
  }
}
