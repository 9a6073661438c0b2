// Shared helpers for the ckks tests: parameter sets, random slot vectors, error measures.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "ckks/context.h"
#include "ckks/params.h"

namespace cryptounet::ckks::test {

// Set (a) of the issue: N = 2^14, 60 + 6x40, two 60-bit special primes (dnum 4): 420 bits <= 438.
inline ContextPtr context_n14() {
  static const ContextPtr ctx = Context::create(Parameters::create({14, {60, 40, 40, 40, 40, 40, 40}, {60, 60}}));
  return ctx;
}

inline std::vector<std::complex<double>> random_complex(size_t n, uint32_t seed, double bound = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-bound, bound);
  std::vector<std::complex<double>> v(n);
  for (auto& x : v) x = {u(rng), u(rng)};
  return v;
}

inline std::vector<double> random_real(size_t n, uint32_t seed, double bound = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-bound, bound);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

inline double max_error(const std::vector<std::complex<double>>& a, const std::vector<std::complex<double>>& b) {
  EXPECT_EQ(a.size(), b.size());
  double e = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) e = std::max(e, std::abs(a[i] - b[i]));
  return e;
}

inline double max_error(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double e = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) e = std::max(e, std::fabs(a[i] - b[i]));
  return e;
}

}  // namespace cryptounet::ckks::test
