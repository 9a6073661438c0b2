// NTT (scalar and AVX-512 IFMA) against schoolbook negacyclic multiplication; modular arithmetic against % .
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ckks/modarith.h"
#include "ckks/ntt.h"
#include "ckks/params.h"
#include "ckks/vector_ops.h"

using namespace cryptounet::ckks;

namespace {

uint64_t find_prime(int bits, int log_n) {
  const uint64_t two_n = uint64_t{2} << log_n;
  for (uint64_t c = (uint64_t{1} << bits) - two_n + 1;; c -= two_n) {
    if (is_prime(c)) return c;
  }
}

std::vector<uint64_t> random_poly(size_t n, uint64_t q, std::mt19937_64& rng) {
  std::vector<uint64_t> a(n);
  for (auto& x : a) x = rng() % q;
  return a;
}

std::vector<uint64_t> schoolbook_negacyclic(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, uint64_t q) {
  const size_t n = a.size();
  std::vector<uint64_t> c(n, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const uint64_t p = static_cast<uint64_t>(static_cast<u128>(a[i]) * b[j] % q);
      const size_t k = i + j;
      if (k < n)
        c[k] = add_mod(c[k], p, q);
      else
        c[k - n] = sub_mod(c[k - n], p, q);  // X^N = -1
    }
  }
  return c;
}

using NttFn = void (*)(uint64_t*, const NttTables&);

void check_against_schoolbook(int bits, int log_n, NttFn forward, NttFn inverse) {
  const uint64_t q = find_prime(bits, log_n);
  const NttTables t = NttTables::create(q, log_n);
  std::mt19937_64 rng(bits * 100 + log_n);
  for (int trial = 0; trial < 3; ++trial) {
    auto a = random_poly(t.n, q, rng), b = random_poly(t.n, q, rng);
    const auto expected = schoolbook_negacyclic(a, b, q);
    forward(a.data(), t);
    forward(b.data(), t);
    for (size_t k = 0; k < t.n; ++k) a[k] = static_cast<uint64_t>(static_cast<u128>(a[k]) * b[k] % q);
    inverse(a.data(), t);
    ASSERT_EQ(a, expected) << "bits " << bits << " log_n " << log_n;
  }
}

}  // namespace

TEST(Ntt, ScalarMatchesSchoolbook) {
  for (int bits : {30, 40, 49, 59, 60})
    for (int log_n : {4, 6, 10}) check_against_schoolbook(bits, log_n, ntt_forward_scalar, ntt_inverse_scalar);
}

TEST(Ntt, IfmaMatchesSchoolbook) {
  if (!ifma_supported()) GTEST_SKIP() << "CPU without AVX-512 IFMA";
  for (int bits : {30, 40, 49})
    for (int log_n : {4, 6, 10}) check_against_schoolbook(bits, log_n, ntt_forward_ifma, ntt_inverse_ifma);
}

TEST(Ntt, IfmaEqualsScalarAndRoundTrips) {
  std::mt19937_64 rng(7);
  for (int log_n : {13, 15, 16}) {
    for (int bits : {36, 40, 49, 60}) {
      const uint64_t q = find_prime(bits, log_n);
      const NttTables t = NttTables::create(q, log_n);
      const auto a = random_poly(t.n, q, rng);
      auto scalar = a, dispatched = a;
      ntt_forward_scalar(scalar.data(), t);
      ntt_forward(dispatched.data(), t);
      ASSERT_EQ(scalar, dispatched) << "forward, bits " << bits << " log_n " << log_n;
      if (ifma_supported() && t.ifma_eligible()) {
        auto ifma = a;
        ntt_forward_ifma(ifma.data(), t);
        ASSERT_EQ(scalar, ifma);
        ntt_inverse_ifma(ifma.data(), t);
        ASSERT_EQ(ifma, a);
      }
      ntt_inverse_scalar(scalar.data(), t);
      ASSERT_EQ(scalar, a) << "round trip, bits " << bits << " log_n " << log_n;
      ntt_inverse(dispatched.data(), t);
      ASSERT_EQ(dispatched, a);
    }
  }
}

TEST(ModArith, BarrettAndShoupMatchDivision) {
  std::mt19937_64 rng(11);
  for (int bits : {20, 40, 50, 60}) {
    const uint64_t q = find_prime(bits, 10);
    const Modulus mod(q);
    for (int i = 0; i < 100000; ++i) {
      const uint64_t a = rng() % q, b = rng() % q, w = rng() % q;
      const u128 x = (static_cast<u128>(rng()) << 64) | rng();
      ASSERT_EQ(mod.reduce(x), static_cast<uint64_t>(x % q));
      ASSERT_EQ(mod.mul(a, b), static_cast<uint64_t>(static_cast<u128>(a) * b % q));
      const uint64_t y = rng();
      ASSERT_EQ(mod.reduce(y), y % q);
      const uint64_t r = rng();
      ASSERT_EQ(mul_shoup(r, w, shoup_precompute(w, q), q), static_cast<uint64_t>(static_cast<u128>(r) * w % q));
      const i128 s = -static_cast<i128>(r);
      ASSERT_EQ(mod.reduce_signed(s), static_cast<uint64_t>((q - static_cast<uint64_t>(static_cast<u128>(r) % q)) % q));
    }
  }
}

TEST(VectorOps, IfmaKernelsEqualScalar) {
  std::mt19937_64 rng(13);
  for (int bits : {20, 31, 40, 45, 49, 50, 55, 60}) {
    const uint64_t q = find_prime(bits, 10);
    const Modulus mod(q);
    const size_t n = 4096;
    std::vector<uint64_t> a(n), b(n), acc(n);
    for (size_t k = 0; k < n; ++k) {
      a[k] = k < 8 ? q - 1 - k : rng() % q;  // include the extremes
      b[k] = k < 8 ? q - 1 : rng() % q;
      acc[k] = rng() % q;
    }
    std::vector<uint64_t> fast(n), slow(n), fast_acc = acc, slow_acc = acc;
    mul_mod_vec(a.data(), b.data(), fast.data(), n, mod);
    mul_mod_vec_scalar(a.data(), b.data(), slow.data(), n, mod);
    ASSERT_EQ(fast, slow) << bits;
    mul_add_mod_vec(a.data(), b.data(), fast_acc.data(), n, mod);
    mul_add_mod_vec_scalar(a.data(), b.data(), slow_acc.data(), n, mod);
    ASSERT_EQ(fast_acc, slow_acc) << bits;
    for (size_t k = 0; k < n; ++k) ASSERT_EQ(slow[k], static_cast<uint64_t>(static_cast<u128>(a[k]) * b[k] % q));
    // Reduction of any 64-bit value (lazy accumulators), in place; the constant w of (x - y) * w below.
    const uint64_t w = rng() % q;
    std::vector<uint64_t> wide(n);
    for (size_t k = 0; k < n; ++k) wide[k] = k < 8 ? ~uint64_t{0} - k : rng();
    std::vector<uint64_t> reduced = wide;
    reduce_vec(reduced.data(), reduced.data(), n, mod);
    for (size_t k = 0; k < n; ++k) ASSERT_EQ(reduced[k], wide[k] % q) << bits;
    for (uint64_t q_from : {find_prime(40, 11), find_prime(50, 11), find_prime(60, 11)}) {
      std::vector<uint64_t> x(n);
      for (size_t k = 0; k < n; ++k) x[k] = k < 4 ? (q_from >> 1) - 1 + k : rng() % q_from;  // around q_from / 2
      reduce_centered_vec(x.data(), q_from, fast.data(), n, mod);
      reduce_centered_vec_scalar(x.data(), q_from, slow.data(), n, mod);
      ASSERT_EQ(fast, slow) << bits << " from " << q_from;
      for (size_t k = 0; k < n; ++k) {
        const i128 centered = x[k] > q_from / 2 ? static_cast<i128>(x[k]) - q_from : static_cast<i128>(x[k]);
        ASSERT_EQ(slow[k], static_cast<uint64_t>(((centered % q) + q) % q));
      }
    }
    for (const int digits : {6, kMaxWeightedTerms, 40}) {  // dot products over "digits" (IFMA up to 16)
      std::vector<std::vector<uint64_t>> xs(digits, std::vector<uint64_t>(n)), bs = xs, as = xs;
      std::vector<const uint64_t*> px, pb, pa;
      for (int j = 0; j < digits; ++j) {
        for (size_t k = 0; k < n; ++k) {
          xs[j][k] = k < 8 ? q - 1 : rng() % q;
          bs[j][k] = k < 8 ? q - 1 : rng() % q;
          as[j][k] = rng() % q;
        }
        px.push_back(xs[j].data());
        pb.push_back(bs[j].data());
        pa.push_back(as[j].data());
      }
      std::vector<uint64_t> fb(n), fa(n), sb(n), sa(n);
      dot_product_pair(px.data(), pb.data(), pa.data(), digits, fb.data(), fa.data(), n, mod);
      dot_product_pair_scalar(px.data(), pb.data(), pa.data(), digits, sb.data(), sa.data(), n, mod);
      ASSERT_EQ(fb, sb) << bits << " " << digits;
      ASSERT_EQ(fa, sa) << bits << " " << digits;
      for (size_t k = 0; k < n; ++k) {
        uint64_t expected = 0;
        for (int j = 0; j < digits; ++j)
          expected = add_mod(expected, static_cast<uint64_t>(static_cast<u128>(xs[j][k]) * bs[j][k] % q), q);
        ASSERT_EQ(sb[k], expected);
      }
    }
    {  // lazy accumulation: identical sums before any reduction
      // Weighted sums of 1 to 16 terms (extreme inputs and weights included), reduced into [0, q) and added.
      std::vector<std::vector<uint64_t>> xs(kMaxWeightedTerms, std::vector<uint64_t>(n));
      std::vector<const uint64_t*> px;
      std::vector<uint64_t> ws(kMaxWeightedTerms);
      for (int t = 0; t < kMaxWeightedTerms; ++t) {
        for (size_t k = 0; k < n; ++k) xs[t][k] = k < 8 ? q - 1 : rng() % q;
        px.push_back(xs[t].data());
        ws[t] = t < 2 ? q - 1 : rng() % q;
      }
      for (int count : {1, 3, kMaxWeightedTerms}) {
        std::vector<uint64_t> lazy_fast = acc, lazy_slow = acc, fresh_fast = acc, fresh_slow = acc;
        weighted_sum_lazy_vec(px.data(), ws.data(), count, lazy_fast.data(), n, mod, /*accumulate=*/true);
        weighted_sum_lazy_vec_scalar(px.data(), ws.data(), count, lazy_slow.data(), n, mod, /*accumulate=*/true);
        ASSERT_EQ(lazy_fast, lazy_slow) << bits << " " << count;
        weighted_sum_lazy_vec(px.data(), ws.data(), count, fresh_fast.data(), n, mod, /*accumulate=*/false);
        weighted_sum_lazy_vec_scalar(px.data(), ws.data(), count, fresh_slow.data(), n, mod, /*accumulate=*/false);
        ASSERT_EQ(fresh_fast, fresh_slow) << bits << " " << count;
        for (size_t k = 0; k < n; ++k) ASSERT_EQ(fresh_slow[k], lazy_slow[k] - acc[k]);
        for (size_t k = 0; k < n; ++k) {
          u128 expected = acc[k];
          for (int t = 0; t < count; ++t) expected += static_cast<u128>(xs[t][k]) * ws[t] % q;
          ASSERT_LT(lazy_slow[k] - acc[k], q);
          ASSERT_EQ(lazy_slow[k] % q, static_cast<uint64_t>(expected % q));
        }
      }
      std::vector<uint64_t> lazy_fast = acc, lazy_slow = acc;
      mul_add_lazy_vec(a.data(), b.data(), lazy_fast.data(), n, mod);
      mul_add_lazy_vec_scalar(a.data(), b.data(), lazy_slow.data(), n, mod);
      ASSERT_EQ(lazy_fast, lazy_slow);
    }
    sub_mul_scalar_vec(a.data(), b.data(), w, fast.data(), n, mod);
    sub_mul_scalar_vec_scalar(a.data(), b.data(), w, slow.data(), n, mod);
    ASSERT_EQ(fast, slow) << bits;
    for (size_t k = 0; k < n; ++k)
      ASSERT_EQ(slow[k], static_cast<uint64_t>(static_cast<u128>(sub_mod(a[k], b[k], q)) * w % q));
  }
}

TEST(VectorOps, AdditiveKernelsAreExactAndMayWorkInPlace) {
  std::mt19937_64 rng(17);
  for (int bits : {20, 40, 50, 60}) {
    const uint64_t q = find_prime(bits, 10);
    const Modulus mod(q);
    const size_t n = 1024;
    std::vector<uint64_t> a(n), b(n);
    for (size_t k = 0; k < n; ++k) {  // the extremes 0 and q - 1 in every combination first
      a[k] = k < 4 ? (k & 1 ? q - 1 : 0) : rng() % q;
      b[k] = k < 4 ? (k & 2 ? q - 1 : 0) : rng() % q;
    }
    const uint64_t c = q - 1;
    std::vector<uint64_t> sum(n), diff(n), shifted(n), negated(n);
    add_mod_vec(a.data(), b.data(), sum.data(), n, mod);
    sub_mod_vec(a.data(), b.data(), diff.data(), n, mod);
    add_scalar_mod_vec(a.data(), c, shifted.data(), n, mod);
    negate_mod_vec(a.data(), negated.data(), n, mod);
    for (size_t k = 0; k < n; ++k) {
      const u128 x = a[k], y = b[k];
      ASSERT_EQ(sum[k], static_cast<uint64_t>((x + y) % q)) << bits << " at " << k;
      ASSERT_EQ(diff[k], static_cast<uint64_t>((x + q - y) % q)) << bits << " at " << k;
      ASSERT_EQ(shifted[k], static_cast<uint64_t>((x + c) % q)) << bits << " at " << k;
      ASSERT_EQ(negated[k], static_cast<uint64_t>((q - x) % q)) << bits << " at " << k;
    }
    std::vector<uint64_t> in_place = a;
    add_mod_vec(in_place.data(), b.data(), in_place.data(), n, mod);
    ASSERT_EQ(in_place, sum);
    sub_mod_vec(in_place.data(), b.data(), in_place.data(), n, mod);
    ASSERT_EQ(in_place, a);
  }
}
