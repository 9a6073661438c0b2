// Barrett reduction with IFMA (q < 2^b, b <= 50, mu = floor(2^(b+51) / q) < 2^52): for x = a*b = hi*2^52 + lo
// < q^2, x1 = x >> (b-1) < 2^51 and quotient = (x1 * mu) >> 52 (one high-half multiply) is at most 2 below x / q,
// so r = x - quotient*q lies in [0, 3q) and is exact in the low 52 bits; two conditional subtractions finish.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 false positive inside _mm512_min_epu64
#include "ckks/vector_ops.h"

#include <immintrin.h>

#include <algorithm>
#include <stdexcept>

#include "ckks/ntt.h"

namespace cryptounet::ckks {

void mul_mod_vec_scalar(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, const Modulus& mod) {
  for (size_t k = 0; k < n; ++k) out[k] = mod.mul(a[k], b[k]);
}

void mul_add_mod_vec_scalar(const uint64_t* a, const uint64_t* b, uint64_t* acc, size_t n, const Modulus& mod) {
  for (size_t k = 0; k < n; ++k) acc[k] = add_mod(acc[k], mod.mul(a[k], b[k]), mod.value);
}

void sub_mul_scalar_vec_scalar(const uint64_t* x, const uint64_t* y, uint64_t w, uint64_t* out, size_t n,
                               const Modulus& mod) {
  const uint64_t ws = shoup_precompute(w, mod.value);
  for (size_t k = 0; k < n; ++k) out[k] = mul_shoup(x[k] + mod.value - y[k], w, ws, mod.value);
}

void reduce_centered_vec_scalar(const uint64_t* x, uint64_t q_from, uint64_t* out, size_t n, const Modulus& mod) {
  const uint64_t half = q_from >> 1, q_from_mod = mod.reduce(q_from);
  for (size_t k = 0; k < n; ++k) {
    const uint64_t v = mod.reduce(x[k]);
    out[k] = x[k] > half ? sub_mod(v, q_from_mod, mod.value) : v;
  }
}

void dot_product_pair_scalar(const uint64_t* const* x, const uint64_t* const* b, const uint64_t* const* a, int count,
                             uint64_t* out_b, uint64_t* out_a, size_t n, const Modulus& mod) {
  for (size_t k = 0; k < n; ++k) {
    u128 sb = 0, sa = 0;  // products < 2^120: 256 of them fit in 128 bits
    for (int j = 0; j < count; ++j) {
      sb += static_cast<u128>(x[j][k]) * b[j][k];
      sa += static_cast<u128>(x[j][k]) * a[j][k];
    }
    out_b[k] = mod.reduce(sb);
    out_a[k] = mod.reduce(sa);
  }
}

void weighted_sum_lazy_vec_scalar(const uint64_t* const* a, const uint64_t* w, int count, uint64_t* acc, size_t n,
                                  const Modulus& mod, bool accumulate) {
  for (size_t k = 0; k < n; ++k) {
    u128 sum = 0;  // products < 2^122: 16 of them fit in 128 bits
    for (int t = 0; t < count; ++t) sum += static_cast<u128>(a[t][k]) * w[t];
    acc[k] = (accumulate ? acc[k] : 0) + mod.reduce(sum);
  }
}

void mul_add_lazy_vec_scalar(const uint64_t* a, const uint64_t* b, uint64_t* acc, size_t n, const Modulus& mod) {
  for (size_t k = 0; k < n; ++k) acc[k] += mod.mul(a[k], b[k]);
}

namespace {

struct Barrett52 {
  __m512i q, mu, mask52;
  __m128i shift_hi_x, shift_lo_x;
};

__attribute__((target("avx512f,avx512ifma"))) Barrett52 make_barrett52(uint64_t q) {
  const int b = 64 - __builtin_clzll(q);
  Barrett52 c;
  c.q = _mm512_set1_epi64(static_cast<long long>(q));
  c.mu = _mm512_set1_epi64(static_cast<long long>(static_cast<uint64_t>((static_cast<u128>(1) << (b + 51)) / q)));
  c.mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  c.shift_hi_x = _mm_cvtsi64_si128(53 - b);
  c.shift_lo_x = _mm_cvtsi64_si128(b - 1);
  return c;
}

__attribute__((target("avx512f,avx512ifma"))) inline __m512i mul_mod52(__m512i a, __m512i b, const Barrett52& c) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i lo = _mm512_madd52lo_epu64(zero, a, b);
  const __m512i hi = _mm512_madd52hi_epu64(zero, a, b);
  const __m512i x1 = _mm512_or_si512(_mm512_sll_epi64(hi, c.shift_hi_x), _mm512_srl_epi64(lo, c.shift_lo_x));
  const __m512i quotient = _mm512_madd52hi_epu64(zero, x1, c.mu);
  __m512i r = _mm512_and_si512(_mm512_sub_epi64(lo, _mm512_madd52lo_epu64(zero, quotient, c.q)), c.mask52);
  r = _mm512_min_epu64(r, _mm512_sub_epi64(r, c.q));
  return _mm512_min_epu64(r, _mm512_sub_epi64(r, c.q));
}

__attribute__((target("avx512f,avx512ifma"))) void mul_mod_ifma(const uint64_t* a, const uint64_t* b, uint64_t* out,
                                                                size_t n, uint64_t q) {
  const Barrett52 c = make_barrett52(q);
  for (size_t k = 0; k < n; k += 8) {
    _mm512_storeu_si512(out + k, mul_mod52(_mm512_loadu_si512(a + k), _mm512_loadu_si512(b + k), c));
  }
}

__attribute__((target("avx512f,avx512ifma"))) void mul_add_mod_ifma(const uint64_t* a, const uint64_t* b,
                                                                    uint64_t* acc, size_t n, uint64_t q) {
  const Barrett52 c = make_barrett52(q);
  for (size_t k = 0; k < n; k += 8) {
    const __m512i p = mul_mod52(_mm512_loadu_si512(a + k), _mm512_loadu_si512(b + k), c);
    const __m512i s = _mm512_add_epi64(_mm512_loadu_si512(acc + k), p);
    _mm512_storeu_si512(acc + k, _mm512_min_epu64(s, _mm512_sub_epi64(s, c.q)));
  }
}

__attribute__((target("avx512f,avx512ifma"))) void sub_mul_scalar_ifma(const uint64_t* x, const uint64_t* y,
                                                                       uint64_t w, uint64_t* out, size_t n, uint64_t q) {
  const __m512i zero = _mm512_setzero_si512(), vq = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i vw = _mm512_set1_epi64(static_cast<long long>(w));
  const __m512i vws = _mm512_set1_epi64(static_cast<long long>((static_cast<u128>(w) << 52) / q));
  const __m512i mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  for (size_t k = 0; k < n; k += 8) {
    const __m512i d = _mm512_sub_epi64(_mm512_add_epi64(_mm512_loadu_si512(x + k), vq), _mm512_loadu_si512(y + k));
    const __m512i quotient = _mm512_madd52hi_epu64(zero, d, vws);
    __m512i r = _mm512_and_si512(
        _mm512_sub_epi64(_mm512_madd52lo_epu64(zero, d, vw), _mm512_madd52lo_epu64(zero, quotient, vq)), mask52);
    _mm512_storeu_si512(out + k, _mm512_min_epu64(r, _mm512_sub_epi64(r, vq)));
  }
}

__attribute__((target("avx512f,avx512ifma"))) void reduce_centered_ifma(const uint64_t* x, uint64_t q_from,
                                                                        uint64_t* out, size_t n, uint64_t q) {
  const __m512i zero = _mm512_setzero_si512(), vq = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i one_shoup = _mm512_set1_epi64(static_cast<long long>((uint64_t{1} << 52) / q));
  const __m512i half = _mm512_set1_epi64(static_cast<long long>(q_from >> 1));
  const __m512i q_from_mod = _mm512_set1_epi64(static_cast<long long>(q_from % q));
  const __m512i mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  for (size_t k = 0; k < n; k += 8) {
    const __m512i v = _mm512_loadu_si512(x + k);
    // v mod q by Shoup with w = 1 (v < 2^52), then minus q_from where v stands for a negative value.
    const __m512i quotient = _mm512_madd52hi_epu64(zero, v, one_shoup);
    __m512i r = _mm512_and_si512(_mm512_sub_epi64(v, _mm512_madd52lo_epu64(zero, quotient, vq)), mask52);
    r = _mm512_min_epu64(r, _mm512_sub_epi64(r, vq));
    __m512i d = _mm512_sub_epi64(r, q_from_mod);
    d = _mm512_min_epu64(d, _mm512_add_epi64(d, vq));
    _mm512_storeu_si512(out + k, _mm512_mask_blend_epi64(_mm512_cmpgt_epu64_mask(v, half), r, d));
  }
}

// The constants of reduce_split52 for one prime q < 2^50.
struct Split52 {
  __m512i q, one_shoup, two52, two52_shoup, mask52;
};

__attribute__((target("avx512f,avx512ifma"))) Split52 make_split52(uint64_t q) {
  const uint64_t two52_mod = (uint64_t{1} << 52) % q;
  Split52 c;
  c.q = _mm512_set1_epi64(static_cast<long long>(q));
  c.one_shoup = _mm512_set1_epi64(static_cast<long long>((uint64_t{1} << 52) / q));
  c.two52 = _mm512_set1_epi64(static_cast<long long>(two52_mod));
  c.two52_shoup = _mm512_set1_epi64(static_cast<long long>((static_cast<u128>(two52_mod) << 52) / q));
  c.mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  return c;
}

// (hi * 2^52 + lo) mod q for lo < 2^64 and hi < 2^52 (sums of 52-bit product halves).
__attribute__((target("avx512f,avx512ifma"))) inline __m512i reduce_split52(__m512i lo, __m512i hi, const Split52& c) {
  const __m512i zero = _mm512_setzero_si512(), q = c.q, mask52 = c.mask52;
  hi = _mm512_add_epi64(hi, _mm512_srli_epi64(lo, 52));
  lo = _mm512_and_si512(lo, mask52);
  // Shoup (beta = 2^52) for lo * 1 and hi * (2^52 mod q): each in [0, 2q).
  const __m512i r_lo = _mm512_and_si512(
      _mm512_sub_epi64(lo, _mm512_madd52lo_epu64(zero, _mm512_madd52hi_epu64(zero, lo, c.one_shoup), q)), mask52);
  const __m512i r_hi = _mm512_and_si512(
      _mm512_sub_epi64(_mm512_madd52lo_epu64(zero, hi, c.two52),
                       _mm512_madd52lo_epu64(zero, _mm512_madd52hi_epu64(zero, hi, c.two52_shoup), q)),
      mask52);
  __m512i r = _mm512_add_epi64(r_lo, r_hi);
  const __m512i two_q = _mm512_add_epi64(q, q);
  r = _mm512_min_epu64(r, _mm512_sub_epi64(r, two_q));
  return _mm512_min_epu64(r, _mm512_sub_epi64(r, q));
}

// Any 64-bit x = hi * 2^52 + lo, reduced as the split sums above (hi < 2^12).
__attribute__((target("avx512f,avx512ifma"))) void reduce64_ifma(const uint64_t* x, uint64_t* out, size_t n,
                                                                 uint64_t q) {
  const Split52 c = make_split52(q);
  for (size_t k = 0; k < n; k += 8) {
    const __m512i v = _mm512_loadu_si512(x + k);
    _mm512_storeu_si512(out + k, reduce_split52(_mm512_and_si512(v, c.mask52), _mm512_srli_epi64(v, 52), c));
  }
}

__attribute__((target("avx512f,avx512ifma"))) void dot_product_pair_ifma(const uint64_t* const* x,
                                                                         const uint64_t* const* b,
                                                                         const uint64_t* const* a, int count,
                                                                         uint64_t* out_b, uint64_t* out_a, size_t n,
                                                                         uint64_t q) {
  const Split52 c = make_split52(q);
  for (size_t k = 0; k < n; k += 8) {
    __m512i lo_b = _mm512_setzero_si512(), hi_b = lo_b, lo_a = lo_b, hi_a = lo_b;
    for (int j = 0; j < count; ++j) {
      const __m512i v = _mm512_loadu_si512(x[j] + k);
      const __m512i kb = _mm512_loadu_si512(b[j] + k), ka = _mm512_loadu_si512(a[j] + k);
      lo_b = _mm512_madd52lo_epu64(lo_b, v, kb);
      hi_b = _mm512_madd52hi_epu64(hi_b, v, kb);
      lo_a = _mm512_madd52lo_epu64(lo_a, v, ka);
      hi_a = _mm512_madd52hi_epu64(hi_a, v, ka);
    }
    _mm512_storeu_si512(out_b + k, reduce_split52(lo_b, hi_b, c));
    _mm512_storeu_si512(out_a + k, reduce_split52(lo_a, hi_a, c));
  }
}

__attribute__((target("avx512f,avx512ifma"))) void weighted_sum_lazy_ifma(const uint64_t* const* a,
                                                                          const uint64_t* w, int count, uint64_t* acc,
                                                                          size_t n, uint64_t q, bool accumulate) {
  const Split52 c = make_split52(q);
  __m512i vw[kMaxWeightedTerms];
  for (int t = 0; t < count; ++t) vw[t] = _mm512_set1_epi64(static_cast<long long>(w[t]));
  for (size_t k = 0; k < n; k += 8) {
    __m512i lo = _mm512_setzero_si512(), hi = lo;
    for (int t = 0; t < count; ++t) {
      const __m512i x = _mm512_loadu_si512(a[t] + k);
      lo = _mm512_madd52lo_epu64(lo, x, vw[t]);
      hi = _mm512_madd52hi_epu64(hi, x, vw[t]);
    }
    const __m512i r = reduce_split52(lo, hi, c);
    _mm512_storeu_si512(acc + k, accumulate ? _mm512_add_epi64(_mm512_loadu_si512(acc + k), r) : r);
  }
}

__attribute__((target("avx512f,avx512ifma"))) void mul_add_lazy_ifma(const uint64_t* a, const uint64_t* b,
                                                                     uint64_t* acc, size_t n, uint64_t q) {
  const Barrett52 c = make_barrett52(q);
  for (size_t k = 0; k < n; k += 8) {
    const __m512i p = mul_mod52(_mm512_loadu_si512(a + k), _mm512_loadu_si512(b + k), c);
    _mm512_storeu_si512(acc + k, _mm512_add_epi64(_mm512_loadu_si512(acc + k), p));
  }
}

// Additive kernels with AVX-512F: for x in [0, 2q) and q < 2^63, x mod q = min(x, x - q) as unsigned 64-bit
// integers (x - q wraps to a huge value when x < q), so no compare-and-blend is needed.
#define CRYPTOUNET_AVX512F __attribute__((target("avx512f")))

CRYPTOUNET_AVX512F void add_mod_avx512(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, uint64_t q) {
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  for (size_t k = 0; k < n; k += 8) {
    const __m512i s = _mm512_add_epi64(_mm512_loadu_si512(a + k), _mm512_loadu_si512(b + k));
    _mm512_storeu_si512(out + k, _mm512_min_epu64(s, _mm512_sub_epi64(s, vq)));
  }
}

// a - b wraps to 2^64 + a - b when a < b; adding q then gives a - b + q < q, the smaller of the two.
CRYPTOUNET_AVX512F void sub_mod_avx512(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, uint64_t q) {
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  for (size_t k = 0; k < n; k += 8) {
    const __m512i d = _mm512_sub_epi64(_mm512_loadu_si512(a + k), _mm512_loadu_si512(b + k));
    _mm512_storeu_si512(out + k, _mm512_min_epu64(d, _mm512_add_epi64(d, vq)));
  }
}

CRYPTOUNET_AVX512F void add_scalar_mod_avx512(const uint64_t* a, uint64_t c, uint64_t* out, size_t n, uint64_t q) {
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q)), vc = _mm512_set1_epi64(static_cast<long long>(c));
  for (size_t k = 0; k < n; k += 8) {
    const __m512i s = _mm512_add_epi64(_mm512_loadu_si512(a + k), vc);
    _mm512_storeu_si512(out + k, _mm512_min_epu64(s, _mm512_sub_epi64(s, vq)));
  }
}

// q - a, and 0 for a = 0 (where q - a = q and (q - a) - q = 0 is the smaller).
CRYPTOUNET_AVX512F void negate_mod_avx512(const uint64_t* a, uint64_t* out, size_t n, uint64_t q) {
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  for (size_t k = 0; k < n; k += 8) {
    const __m512i r = _mm512_sub_epi64(vq, _mm512_loadu_si512(a + k));
    _mm512_storeu_si512(out + k, _mm512_min_epu64(r, _mm512_sub_epi64(r, vq)));
  }
}

// Modulus keeps q < 2^61, well inside the q < 2^63 the min trick needs.
bool use_avx512(size_t n) {
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return supported && n % 8 == 0;
}

bool use_ifma(const Modulus& mod, size_t n) {
  static const bool supported = ifma_supported();
  return supported && mod.value < (uint64_t{1} << 50) && n % 8 == 0;
}

}  // namespace

void prefetch_vec(const uint64_t* x, size_t n) {
  for (size_t k = 0; k < n; k += 8) _mm_prefetch(reinterpret_cast<const char*>(x + k), _MM_HINT_T1);
}

void permute_vec(const uint64_t* x, const uint32_t* perm, uint64_t* out, size_t n) {
  prefetch_vec(x, n);
  for (size_t k = 0; k < n; ++k) out[k] = x[perm[k]];
}

void add_permuted_mod_vec(const uint64_t* a, const uint64_t* x, const uint32_t* perm, uint64_t* out, size_t n,
                          const Modulus& mod) {
  prefetch_vec(x, n);
  for (size_t k = 0; k < n; ++k) out[k] = add_mod(a[k], x[perm[k]], mod.value);
}

void add_mod_vec(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, const Modulus& mod) {
  if (use_avx512(n))
    add_mod_avx512(a, b, out, n, mod.value);
  else
    for (size_t k = 0; k < n; ++k) out[k] = add_mod(a[k], b[k], mod.value);
}

void sub_mod_vec(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, const Modulus& mod) {
  if (use_avx512(n))
    sub_mod_avx512(a, b, out, n, mod.value);
  else
    for (size_t k = 0; k < n; ++k) out[k] = sub_mod(a[k], b[k], mod.value);
}

void add_scalar_mod_vec(const uint64_t* a, uint64_t c, uint64_t* out, size_t n, const Modulus& mod) {
  if (use_avx512(n))
    add_scalar_mod_avx512(a, c, out, n, mod.value);
  else
    for (size_t k = 0; k < n; ++k) out[k] = add_mod(a[k], c, mod.value);
}

void negate_mod_vec(const uint64_t* a, uint64_t* out, size_t n, const Modulus& mod) {
  if (use_avx512(n))
    negate_mod_avx512(a, out, n, mod.value);
  else
    for (size_t k = 0; k < n; ++k) out[k] = neg_mod(a[k], mod.value);
}

void mul_mod_vec(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, const Modulus& mod) {
  if (use_ifma(mod, n))
    mul_mod_ifma(a, b, out, n, mod.value);
  else
    mul_mod_vec_scalar(a, b, out, n, mod);
}

void mul_add_mod_vec(const uint64_t* a, const uint64_t* b, uint64_t* acc, size_t n, const Modulus& mod) {
  if (use_ifma(mod, n))
    mul_add_mod_ifma(a, b, acc, n, mod.value);
  else
    mul_add_mod_vec_scalar(a, b, acc, n, mod);
}

void sub_mul_scalar_vec(const uint64_t* x, const uint64_t* y, uint64_t w, uint64_t* out, size_t n, const Modulus& mod) {
  if (use_ifma(mod, n))
    sub_mul_scalar_ifma(x, y, w, out, n, mod.value);
  else
    sub_mul_scalar_vec_scalar(x, y, w, out, n, mod);
}

void weighted_sum_lazy_vec(const uint64_t* const* a, const uint64_t* w, int count, uint64_t* acc, size_t n,
                           const Modulus& mod, bool accumulate) {
  if (count < 1 || count > kMaxWeightedTerms) throw std::invalid_argument("weighted_sum_lazy_vec: 1 to 16 terms");
  if (use_ifma(mod, n))
    weighted_sum_lazy_ifma(a, w, count, acc, n, mod.value, accumulate);
  else
    weighted_sum_lazy_vec_scalar(a, w, count, acc, n, mod, accumulate);
}

void mul_add_lazy_vec(const uint64_t* a, const uint64_t* b, uint64_t* acc, size_t n, const Modulus& mod) {
  if (use_ifma(mod, n))
    mul_add_lazy_ifma(a, b, acc, n, mod.value);
  else
    mul_add_lazy_vec_scalar(a, b, acc, n, mod);
}

void reduce_vec(const uint64_t* x, uint64_t* out, size_t n, const Modulus& mod) {
  if (use_ifma(mod, n)) {
    reduce64_ifma(x, out, n, mod.value);
  } else {
    for (size_t k = 0; k < n; ++k) out[k] = mod.reduce(x[k]);
  }
}

void reduce_centered_vec(const uint64_t* x, uint64_t q_from, uint64_t* out, size_t n, const Modulus& mod) {
  if (use_ifma(mod, n) && q_from < (uint64_t{1} << 52))
    reduce_centered_ifma(x, q_from, out, n, mod.value);
  else
    reduce_centered_vec_scalar(x, q_from, out, n, mod);
}

void dot_product_pair(const uint64_t* const* x, const uint64_t* const* b, const uint64_t* const* a, int count,
                      uint64_t* out_b, uint64_t* out_a, size_t n, const Modulus& mod) {
  if (use_ifma(mod, n) && count <= kMaxWeightedTerms)
    dot_product_pair_ifma(x, b, a, count, out_b, out_a, n, mod.value);
  else
    dot_product_pair_scalar(x, b, a, count, out_b, out_a, n, mod);
}

}  // namespace cryptounet::ckks
