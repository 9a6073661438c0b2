// The samplers behind secrets and errors: support and moments of the discrete Gaussian D_{Z,3.2} (cut at 6 sigma)
// and of the uniform ternary secret. 2^20 samples; every tolerance is about 6 standard errors, so a correct sampler
// fails with probability below 1e-8 per check while a wrong sigma, bias or support is caught.
#include "ckks/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace cryptounet::ckks {
namespace {

constexpr size_t kSamples = size_t{1} << 20;

TEST(Sampling, DiscreteGaussianHasSigma32AndIsCutAtSixSigma) {
  const auto e = sample_gaussian(kSamples);
  ASSERT_EQ(e.size(), kSamples);
  std::array<size_t, 39> counts{};
  double sum = 0, sum_sq = 0;
  for (const int8_t v : e) {
    ASSERT_LE(std::abs(v), 19);
    ++counts[v + 19];
    sum += v;
    sum_sq += static_cast<double>(v) * v;
  }
  const double n = kSamples, mean = sum / n, variance = sum_sq / n - mean * mean;
  EXPECT_LT(std::abs(mean), 0.02);            // standard error 3.2 / 2^10 = 0.0031
  EXPECT_NEAR(variance, 10.24, 0.1);           // standard error sqrt(2) * 10.24 / 2^10 = 0.014
  // Each value's frequency against rho(x) / S, S = sum over |x| <= 19 of exp(-x^2 / (2 * 3.2^2)) = 8.0212.
  double total = 0;
  for (int x = -19; x <= 19; ++x) total += std::exp(-x * x / (2 * 3.2 * 3.2));
  for (int x = -19; x <= 19; ++x) {
    const double p = std::exp(-x * x / (2 * 3.2 * 3.2)) / total;
    // 6 standard errors, plus 4 samples of slack: in the tails (|x| >= 16) fewer than one sample is expected, the
    // count is Poisson rather than normal, and 2 hits at x = 18 (probability 2e-4) must not fail the test.
    const double standard_error = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(counts[x + 19] / n, p, 6 * standard_error + 4 / n) << "x = " << x;
  }
  EXPECT_NE(sample_gaussian(64), sample_gaussian(64));  // fresh randomness on every call
}

TEST(Sampling, TernaryIsUniformOnMinusOneZeroOne) {
  const auto s = sample_ternary(kSamples);
  std::array<size_t, 3> counts{};
  for (const int8_t v : s) {
    ASSERT_GE(v, -1);
    ASSERT_LE(v, 1);
    ++counts[v + 1];
  }
  const double standard_error = std::sqrt((1.0 / 3) * (2.0 / 3) / kSamples);
  for (const size_t c : counts) EXPECT_NEAR(c / double(kSamples), 1.0 / 3, 6 * standard_error);
}

// The branch-free sign select must give c mod q for every coefficient the samplers produce (|c| <= 19), on a
// 60-bit and a 40-bit prime, in NTT form.
TEST(Sampling, SmallToNttIsExactForEverySmallCoefficient) {
  const auto ctx = Context::create(Parameters::create({13, {60, 40}, {50}}));
  const size_t n = ctx->poly_degree();
  std::vector<int8_t> coeffs(n);
  for (size_t k = 0; k < n; ++k) coeffs[k] = static_cast<int8_t>(static_cast<int>(k % 39) - 19);
  const std::vector<int> primes = {0, 1, 2};
  std::vector<uint64_t> out(primes.size() * n);
  small_to_ntt(*ctx, coeffs, primes, out.data());
  for (size_t l = 0; l < primes.size(); ++l) {
    const uint64_t q = ctx->prime(primes[l]);
    std::vector<uint64_t> expected(n);
    for (size_t k = 0; k < n; ++k) expected[k] = coeffs[k] < 0 ? q - static_cast<uint64_t>(-coeffs[k]) : coeffs[k];
    ntt_forward(expected.data(), ctx->ntt(primes[l]));
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin() + l * n)) << "prime " << l;
  }
}

}  // namespace
}  // namespace cryptounet::ckks
