// Element-wise modular kernels on limbs of N coefficients (inputs in [0, q)), with an AVX-512 IFMA path for primes
// q < 2^50 (52-bit Barrett reduction, run-time dispatch) and an exact scalar path otherwise; both give the same result.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ckks/modarith.h"

namespace cryptounet::ckks {

// out = a + b, a - b, a + c, -a mod q, for inputs in [0, q) (out may be a or b); AVX-512F when the CPU has it.
void add_mod_vec(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, const Modulus& mod);
void sub_mod_vec(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, const Modulus& mod);
void add_scalar_mod_vec(const uint64_t* a, uint64_t c, uint64_t* out, size_t n, const Modulus& mod);
void negate_mod_vec(const uint64_t* a, uint64_t* out, size_t n, const Modulus& mod);
// Permutations of the NTT slots (automorphisms): out[k] = x[perm[k]], and out[k] = a[k] + x[perm[k]] mod q (out must
// not alias x). The reads are scattered over all of x, so x is first prefetched in order (prefetch_vec: into L2):
// twice as fast when x is not in cache (AVX-512 gathers were slower than scalar loads on AMD Zen 4).
void prefetch_vec(const uint64_t* x, size_t n);
void permute_vec(const uint64_t* x, const uint32_t* perm, uint64_t* out, size_t n);
void add_permuted_mod_vec(const uint64_t* a, const uint64_t* x, const uint32_t* perm, uint64_t* out, size_t n,
                          const Modulus& mod);
void mul_mod_vec(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, const Modulus& mod);  // a*b
void mul_add_mod_vec(const uint64_t* a, const uint64_t* b, uint64_t* acc, size_t n, const Modulus& mod);  // acc += a*b
// out = (x - y) * w mod q for x, y in [0, q) and a constant w < q (rescale, ModDown).
void sub_mul_scalar_vec(const uint64_t* x, const uint64_t* y, uint64_t w, uint64_t* out, size_t n, const Modulus& mod);
// out = x mod q for any 64-bit x (IFMA when q < 2^50); out may be x.
void reduce_vec(const uint64_t* x, uint64_t* out, size_t n, const Modulus& mod);

// out = [x]_centered mod q for x in [0, q_from): values above q_from / 2 stand for x - q_from (centered rounding in
// rescale).
void reduce_centered_vec(const uint64_t* x, uint64_t q_from, uint64_t* out, size_t n, const Modulus& mod);
// The IFMA sums of products below add the low and high 52-bit halves of each product separately and reduce once:
// with q < 2^50 a high half is below 2^48, so 16 of them stay below the 52 bits the multipliers read.
inline constexpr int kMaxWeightedTerms = 16;

// Two dot products over `count` digits sharing their left operands, one reduction per coefficient:
// out_b[k] = sum_j x[j][k] * b[j][k], out_a[k] = sum_j x[j][k] * a[j][k] (mod q), count <= 256 (IFMA for
// count <= kMaxWeightedTerms, 128-bit scalar sums otherwise).
void dot_product_pair(const uint64_t* const* x, const uint64_t* const* b, const uint64_t* const* a, int count,
                      uint64_t* out_b, uint64_t* out_a, size_t n, const Modulus& mod);
// Lazy accumulation (no reduction of acc): acc = (accumulate ? acc : 0) + (sum_t a[t] * w[t] mod q), the sum in
// [0, q), for 1 <= count <= kMaxWeightedTerms constants w[t] < q and inputs a[t][k] < max(q, 2^50); or acc += a * b
// in [0, q) for a, b in [0, q). The caller keeps acc below 2^64 (see LinearAccumulator).
void weighted_sum_lazy_vec(const uint64_t* const* a, const uint64_t* w, int count, uint64_t* acc, size_t n,
                           const Modulus& mod, bool accumulate);
void mul_add_lazy_vec(const uint64_t* a, const uint64_t* b, uint64_t* acc, size_t n, const Modulus& mod);

// The scalar reference of the two kernels (tests).
void mul_mod_vec_scalar(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n, const Modulus& mod);
void mul_add_mod_vec_scalar(const uint64_t* a, const uint64_t* b, uint64_t* acc, size_t n, const Modulus& mod);
void dot_product_pair_scalar(const uint64_t* const* x, const uint64_t* const* b, const uint64_t* const* a, int count,
                             uint64_t* out_b, uint64_t* out_a, size_t n, const Modulus& mod);
void weighted_sum_lazy_vec_scalar(const uint64_t* const* a, const uint64_t* w, int count, uint64_t* acc, size_t n,
                                  const Modulus& mod, bool accumulate);
void mul_add_lazy_vec_scalar(const uint64_t* a, const uint64_t* b, uint64_t* acc, size_t n, const Modulus& mod);
void reduce_centered_vec_scalar(const uint64_t* x, uint64_t q_from, uint64_t* out, size_t n, const Modulus& mod);
void sub_mul_scalar_vec_scalar(const uint64_t* x, const uint64_t* y, uint64_t w, uint64_t* out, size_t n,
                               const Modulus& mod);

}  // namespace cryptounet::ckks
