// Hybrid key switching (Han–Ki 2020), the engine's internal building block for relinearization and rotations.
//
// decompose_mod_up: c (NTT form over q_0..q_level) -> for each digit j, [c]_{Q_j} extended to Q_level * P by fast
// base conversion, in NTT form. key_inner_product_mod_down: sum_j digit_j * (b_j, a_j) over Q_level * P (128-bit
// lazy sums, one reduction per coefficient), optionally reading the digits through an automorphism permutation
// (hoisting), then ModDown (divide by P) to two polynomials over q_0..q_level. The two halves are also available
// separately, so that several key-switched products can be summed over Q_level * P and brought down once (double
// hoisting, Bossuat et al. 2021).
#pragma once

#include <cstdint>
#include <vector>

#include "ckks/buffer.h"
#include "ckks/context.h"
#include "ckks/keys.h"

namespace cryptounet::ckks {

struct DecomposedPoly {
  int level = 0;
  int digits = 0;
  // One buffer per digit, [limb over q_0..q_level, p_0..p_{K-1}][N]: separate blocks stay below glibc's mmap
  // threshold and are reused by the allocator instead of being page-faulted in again on every key switch.
  std::vector<LimbBuffer> digit;
};

DecomposedPoly decompose_mod_up(const Context& ctx, const uint64_t* c_ntt, int level);

// sum_j digit_j * (b_j, a_j) over Q_level * P (level + 1 + K limbs, NTT form, reduced), written to acc0, acc1, or
// added to them (mod each prime) with `accumulate`. perm: nullptr or an NTT-form automorphism permutation.
void key_inner_product(const Context& ctx, const DecomposedPoly& d, const KeySwitchKey& key, const uint32_t* perm,
                       LimbBuffer& acc0, LimbBuffer& acc1, bool accumulate);

// acc (NTT form over Q_level * P) -> (acc - ModUp_P->Q([acc]_P)) * P^-1 over Q_level (level + 1 limbs), written to
// out; acc's P limbs are overwritten.
void mod_down(const Context& ctx, LimbBuffer& acc, int level, uint64_t* out);

// key_inner_product then mod_down. out0, out1: level+1 limbs each (NTT form), overwritten.
void key_inner_product_mod_down(const Context& ctx, const DecomposedPoly& d, const KeySwitchKey& key,
                                const uint32_t* perm, uint64_t* out0, uint64_t* out1);

}  // namespace cryptounet::ckks
