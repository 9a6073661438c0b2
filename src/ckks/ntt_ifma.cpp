// AVX-512 IFMA kernels of the negacyclic NTT (primes q < 2^50, so that 4q < 2^52 fits the 52-bit multipliers).
// Shoup with beta = 2^52: for Y < 2^52 and w' = floor(w * 2^52 / q), Y*w - floor(Y*w'/2^52)*q lies in [0, 2q) and
// is recovered exactly from the low 52 bits of both products. The butterflies with distance >= 8 are vectorized;
// the three stages with distance 4, 2, 1 use the scalar Harvey butterflies (same [0, 4q) invariants).
// GCC 12 reports a false -Wmaybe-uninitialized inside the _mm512_min_epu64 intrinsic (its undefined passthrough).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "ckks/modarith.h"
#include "ckks/ntt.h"

namespace cryptounet::ckks {

bool ifma_supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
}

namespace {

#define CRYPTOUNET_IFMA __attribute__((target("avx512f,avx512ifma")))

CRYPTOUNET_IFMA inline __m512i mul_shoup52_lazy(__m512i y, __m512i w, __m512i w_shoup, __m512i q, __m512i mask52) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i quotient = _mm512_madd52hi_epu64(zero, y, w_shoup);
  const __m512i product = _mm512_madd52lo_epu64(zero, y, w);
  const __m512i correction = _mm512_madd52lo_epu64(zero, quotient, q);
  return _mm512_and_si512(_mm512_sub_epi64(product, correction), mask52);
}

// Scalar Harvey butterflies for one forward stage of distance t (m groups).
void forward_stage_scalar(uint64_t* a, const NttTables& tables, size_t m, size_t t) {
  const uint64_t q = tables.q, two_q = 2 * q;
  for (size_t i = 0; i < m; ++i) {
    const uint64_t w = tables.roots[m + i], ws = tables.roots_shoup[m + i];
    uint64_t* x = a + 2 * i * t;
    uint64_t* y = x + t;
    for (size_t j = 0; j < t; ++j) {
      uint64_t u = x[j];
      u = u >= two_q ? u - two_q : u;
      const uint64_t v = mul_shoup_lazy(y[j], w, ws, q);
      x[j] = u + v;
      y[j] = u - v + two_q;
    }
  }
}

void inverse_stage_scalar(uint64_t* a, const NttTables& tables, size_t m, size_t t) {
  const uint64_t q = tables.q, two_q = 2 * q;
  for (size_t i = 0; i < m; ++i) {
    const uint64_t w = tables.inv_roots[m + i], ws = tables.inv_roots_shoup[m + i];
    uint64_t* x = a + 2 * i * t;
    uint64_t* y = x + t;
    for (size_t j = 0; j < t; ++j) {
      const uint64_t u = x[j], v = y[j];
      uint64_t s = u + v;
      s = s >= two_q ? s - two_q : s;
      x[j] = s;
      y[j] = mul_shoup_lazy(u - v + two_q, w, ws, q);
    }
  }
}

}  // namespace

CRYPTOUNET_IFMA void ntt_forward_ifma(uint64_t* a, const NttTables& tables) {
  const size_t n = tables.n;
  const __m512i q = _mm512_set1_epi64(static_cast<long long>(tables.q));
  const __m512i two_q = _mm512_set1_epi64(static_cast<long long>(2 * tables.q));
  const __m512i mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  size_t t = n;
  size_t m = 1;
  for (; m < n; m <<= 1) {
    t >>= 1;
    if (t < 8) break;
    for (size_t i = 0; i < m; ++i) {
      const __m512i w = _mm512_set1_epi64(static_cast<long long>(tables.roots[m + i]));
      const __m512i ws = _mm512_set1_epi64(static_cast<long long>(tables.roots_shoup52[m + i]));
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; j += 8) {
        __m512i u = _mm512_loadu_si512(x + j);
        u = _mm512_min_epu64(u, _mm512_sub_epi64(u, two_q));  // [0, 4q) -> [0, 2q)
        const __m512i v = mul_shoup52_lazy(_mm512_loadu_si512(y + j), w, ws, q, mask52);
        _mm512_storeu_si512(x + j, _mm512_add_epi64(u, v));
        _mm512_storeu_si512(y + j, _mm512_add_epi64(_mm512_sub_epi64(u, v), two_q));
      }
    }
  }
  for (; m < n; m <<= 1, t >>= 1) forward_stage_scalar(a, tables, m, t);
  for (size_t j = 0; j < n; j += 8) {
    __m512i u = _mm512_loadu_si512(a + j);
    u = _mm512_min_epu64(u, _mm512_sub_epi64(u, two_q));
    u = _mm512_min_epu64(u, _mm512_sub_epi64(u, q));
    _mm512_storeu_si512(a + j, u);
  }
}

CRYPTOUNET_IFMA void ntt_inverse_ifma(uint64_t* a, const NttTables& tables) {
  const size_t n = tables.n;
  const __m512i q = _mm512_set1_epi64(static_cast<long long>(tables.q));
  const __m512i two_q = _mm512_set1_epi64(static_cast<long long>(2 * tables.q));
  const __m512i mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  size_t t = 1;
  size_t m = n >> 1;
  for (; t < 8; m >>= 1, t <<= 1) inverse_stage_scalar(a, tables, m, t);
  for (; m >= 1; m >>= 1, t <<= 1) {
    for (size_t i = 0; i < m; ++i) {
      const __m512i w = _mm512_set1_epi64(static_cast<long long>(tables.inv_roots[m + i]));
      const __m512i ws = _mm512_set1_epi64(static_cast<long long>(tables.inv_roots_shoup52[m + i]));
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; j += 8) {
        const __m512i u = _mm512_loadu_si512(x + j);
        const __m512i v = _mm512_loadu_si512(y + j);
        __m512i s = _mm512_add_epi64(u, v);
        s = _mm512_min_epu64(s, _mm512_sub_epi64(s, two_q));
        _mm512_storeu_si512(x + j, s);
        const __m512i d = _mm512_add_epi64(_mm512_sub_epi64(u, v), two_q);
        _mm512_storeu_si512(y + j, mul_shoup52_lazy(d, w, ws, q, mask52));
      }
    }
  }
  const __m512i inv_n = _mm512_set1_epi64(static_cast<long long>(tables.inv_n));
  const __m512i inv_n_shoup = _mm512_set1_epi64(static_cast<long long>(tables.inv_n_shoup52));
  for (size_t j = 0; j < n; j += 8) {
    __m512i u = mul_shoup52_lazy(_mm512_loadu_si512(a + j), inv_n, inv_n_shoup, q, mask52);
    u = _mm512_min_epu64(u, _mm512_sub_epi64(u, q));
    _mm512_storeu_si512(a + j, u);
  }
}

}  // namespace cryptounet::ckks
