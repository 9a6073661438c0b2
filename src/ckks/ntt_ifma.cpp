// AVX-512 IFMA kernels of the negacyclic NTT (primes q < 2^50, so that 4q < 2^52 fits the 52-bit multipliers).
// Shoup with beta = 2^52: for Y < 2^52 and w' = floor(w * 2^52 / q), Y*w - floor(Y*w'/2^52)*q lies in [0, 2q) and
// is recovered exactly from the low 52 bits of both products. Butterflies with distance >= 8 work on whole vectors;
// the stages with distance 4, 2, 1 regroup two vectors (16 coefficients) with lane permutations first.
// GCC 12 reports a false -Wmaybe-uninitialized inside the _mm512_min_epu64 intrinsic (its undefined passthrough).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <vector>

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

// A twiddle factor and its Shoup constant, broadcast.
struct Twiddle {
  __m512i w, ws;
};

CRYPTOUNET_IFMA inline Twiddle twiddle(const std::vector<uint64_t>& roots, const std::vector<uint64_t>& shoup,
                                       size_t k) {
  return {_mm512_set1_epi64(static_cast<long long>(roots[k])), _mm512_set1_epi64(static_cast<long long>(shoup[k]))};
}

// Harvey's lazy Cooley-Tukey butterfly: u, y in [0, 4q) -> u + w*y, u - w*y + 2q, both in [0, 4q).
CRYPTOUNET_IFMA inline void ct_butterfly(__m512i& u, __m512i& y, __m512i w, __m512i ws, __m512i q, __m512i two_q,
                                         __m512i mask52) {
  u = _mm512_min_epu64(u, _mm512_sub_epi64(u, two_q));  // [0, 4q) -> [0, 2q)
  const __m512i v = mul_shoup52_lazy(y, w, ws, q, mask52);
  y = _mm512_add_epi64(_mm512_sub_epi64(u, v), two_q);
  u = _mm512_add_epi64(u, v);
}

// Gentleman-Sande butterfly: u, v in [0, 2q) -> u + v, (u - v) * w, both in [0, 2q).
CRYPTOUNET_IFMA inline void gs_butterfly(__m512i& u, __m512i& v, __m512i w, __m512i ws, __m512i q, __m512i two_q,
                                         __m512i mask52) {
  const __m512i d = _mm512_add_epi64(_mm512_sub_epi64(u, v), two_q);
  u = _mm512_add_epi64(u, v);
  u = _mm512_min_epu64(u, _mm512_sub_epi64(u, two_q));
  v = mul_shoup52_lazy(d, w, ws, q, mask52);
}

// Four vectors at distance d (the inputs of two butterfly stages, distances 2d and d), loaded and stored together.
struct Quad {
  __m512i v0, v1, v2, v3;
};

CRYPTOUNET_IFMA inline Quad load_quad(const uint64_t* x, size_t d) {
  return {_mm512_loadu_si512(x), _mm512_loadu_si512(x + d), _mm512_loadu_si512(x + 2 * d),
          _mm512_loadu_si512(x + 3 * d)};
}

CRYPTOUNET_IFMA inline void store_quad(uint64_t* x, size_t d, const Quad& r) {
  _mm512_storeu_si512(x, r.v0);
  _mm512_storeu_si512(x + d, r.v1);
  _mm512_storeu_si512(x + 2 * d, r.v2);
  _mm512_storeu_si512(x + 3 * d, r.v3);
}

// Lane patterns for a butterfly distance t in {4, 2, 1} over 16 coefficients (two vectors A, B): X/Y gather the
// butterfly inputs, LO/HI put the results back in place, TW repeats the per-group twiddles.
struct SmallStage {
  __m512i x_idx, y_idx, lo_idx, hi_idx, tw_idx;
};

CRYPTOUNET_IFMA SmallStage small_stage(size_t t) {
  if (t == 4)
    return {_mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11), _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15),
            _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11), _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15),
            _mm512_setr_epi64(0, 0, 0, 0, 1, 1, 1, 1)};
  if (t == 2)
    return {_mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13), _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15),
            _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15),
            _mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3)};
  return {_mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15),
          _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15),
          _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7)};
}

// The 16 / (2t) twiddles of one 16-coefficient chunk, each repeated t times.
CRYPTOUNET_IFMA inline __m512i load_twiddles(const uint64_t* w, size_t t, __m512i tw_idx) {
  const __m512i raw = t == 1 ? _mm512_loadu_si512(w)
                      : t == 2 ? _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)))
                               : _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
  return _mm512_permutexvar_epi64(tw_idx, raw);
}

}  // namespace

CRYPTOUNET_IFMA void ntt_forward_ifma(uint64_t* a, const NttTables& tables) {
  const size_t n = tables.n;
  const __m512i q = _mm512_set1_epi64(static_cast<long long>(tables.q));
  const __m512i two_q = _mm512_set1_epi64(static_cast<long long>(2 * tables.q));
  const __m512i mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  size_t t = n;
  size_t m = 1;
  // Two stages per pass while the second keeps whole vectors (distance >= 8): each group of 4 vectors is loaded and
  // stored once for both stages (half the memory traffic of one stage at a time; the lazy ranges are the same).
  for (; m < n && (t >> 2) >= 8; m <<= 2) {
    t >>= 1;  // distance of the first stage; the second has t / 2
    const size_t h = t >> 1;
    for (size_t i = 0; i < m; ++i) {
      const Twiddle w1 = twiddle(tables.roots, tables.roots_shoup52, m + i);
      const Twiddle w2a = twiddle(tables.roots, tables.roots_shoup52, 2 * m + 2 * i);
      const Twiddle w2b = twiddle(tables.roots, tables.roots_shoup52, 2 * m + 2 * i + 1);
      uint64_t* x = a + 2 * i * t;
      for (size_t j = 0; j < h; j += 8) {
        Quad r = load_quad(x + j, h);
        ct_butterfly(r.v0, r.v2, w1.w, w1.ws, q, two_q, mask52);
        ct_butterfly(r.v1, r.v3, w1.w, w1.ws, q, two_q, mask52);
        ct_butterfly(r.v0, r.v1, w2a.w, w2a.ws, q, two_q, mask52);
        ct_butterfly(r.v2, r.v3, w2b.w, w2b.ws, q, two_q, mask52);
        store_quad(x + j, h, r);
      }
    }
    t >>= 1;
  }
  for (; m < n; m <<= 1) {
    t >>= 1;
    if (t < 8) break;
    for (size_t i = 0; i < m; ++i) {
      const auto [w, ws] = twiddle(tables.roots, tables.roots_shoup52, m + i);
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; j += 8) {
        __m512i u = _mm512_loadu_si512(x + j), v = _mm512_loadu_si512(y + j);
        ct_butterfly(u, v, w, ws, q, two_q, mask52);
        _mm512_storeu_si512(x + j, u);
        _mm512_storeu_si512(y + j, v);
      }
    }
  }
  for (; m < n; m <<= 1, t >>= 1) {
    const SmallStage st = small_stage(t);
    for (size_t c = 0; c < n; c += 16) {
      const __m512i va = _mm512_loadu_si512(a + c), vb = _mm512_loadu_si512(a + c + 8);
      __m512i u = _mm512_permutex2var_epi64(va, st.x_idx, vb);
      __m512i y = _mm512_permutex2var_epi64(va, st.y_idx, vb);
      const size_t group = m + c / (2 * t);
      const __m512i w = load_twiddles(tables.roots.data() + group, t, st.tw_idx);
      const __m512i ws = load_twiddles(tables.roots_shoup52.data() + group, t, st.tw_idx);
      ct_butterfly(u, y, w, ws, q, two_q, mask52);
      _mm512_storeu_si512(a + c, _mm512_permutex2var_epi64(u, st.lo_idx, y));
      _mm512_storeu_si512(a + c + 8, _mm512_permutex2var_epi64(u, st.hi_idx, y));
    }
  }
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
  for (; t < 8; m >>= 1, t <<= 1) {
    const SmallStage st = small_stage(t);
    for (size_t c = 0; c < n; c += 16) {
      const __m512i va = _mm512_loadu_si512(a + c), vb = _mm512_loadu_si512(a + c + 8);
      __m512i u = _mm512_permutex2var_epi64(va, st.x_idx, vb);
      __m512i v = _mm512_permutex2var_epi64(va, st.y_idx, vb);
      const size_t group = m + c / (2 * t);
      const __m512i w = load_twiddles(tables.inv_roots.data() + group, t, st.tw_idx);
      const __m512i ws = load_twiddles(tables.inv_roots_shoup52.data() + group, t, st.tw_idx);
      gs_butterfly(u, v, w, ws, q, two_q, mask52);
      _mm512_storeu_si512(a + c, _mm512_permutex2var_epi64(u, st.lo_idx, v));
      _mm512_storeu_si512(a + c + 8, _mm512_permutex2var_epi64(u, st.hi_idx, v));
    }
  }
  // Two stages per pass (distances t and 2t), as in the forward transform.
  for (; m >= 2; m >>= 2, t <<= 2) {
    for (size_t i = 0; i < m / 2; ++i) {
      const Twiddle w1a = twiddle(tables.inv_roots, tables.inv_roots_shoup52, m + 2 * i);
      const Twiddle w1b = twiddle(tables.inv_roots, tables.inv_roots_shoup52, m + 2 * i + 1);
      const Twiddle w2 = twiddle(tables.inv_roots, tables.inv_roots_shoup52, m / 2 + i);
      uint64_t* x = a + 4 * i * t;
      for (size_t j = 0; j < t; j += 8) {
        Quad r = load_quad(x + j, t);
        gs_butterfly(r.v0, r.v1, w1a.w, w1a.ws, q, two_q, mask52);
        gs_butterfly(r.v2, r.v3, w1b.w, w1b.ws, q, two_q, mask52);
        gs_butterfly(r.v0, r.v2, w2.w, w2.ws, q, two_q, mask52);
        gs_butterfly(r.v1, r.v3, w2.w, w2.ws, q, two_q, mask52);
        store_quad(x + j, t, r);
      }
    }
  }
  for (; m >= 1; m >>= 1, t <<= 1) {
    for (size_t i = 0; i < m; ++i) {
      const auto [w, ws] = twiddle(tables.inv_roots, tables.inv_roots_shoup52, m + i);
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; j += 8) {
        __m512i u = _mm512_loadu_si512(x + j), v = _mm512_loadu_si512(y + j);
        gs_butterfly(u, v, w, ws, q, two_q, mask52);
        _mm512_storeu_si512(x + j, u);
        _mm512_storeu_si512(y + j, v);
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
