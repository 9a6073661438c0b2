// The shared, immutable context: parameters, NTT tables for every prime, RNS base-conversion tables for hybrid key
// switching (ModUp per digit, ModDown from P), rescaling constants, Galois helpers and CRT composition for decoding.
//
// Prime indexing used throughout the engine: indices 0..L are q_0..q_L, indices L+1..L+K are p_0..p_{K-1}.
#pragma once

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "ckks/modarith.h"
#include "ckks/ntt.h"
#include "ckks/params.h"

namespace cryptounet::ckks {

class Context;
using ContextPtr = std::shared_ptr<const Context>;

// Fast (approximate) RNS base conversion from a set of source primes S to target primes T (Bajard et al.):
// x -> sum_i [x_i * (S/s_i)^-1]_{s_i} * (S/s_i) mod t, exact up to a small multiple of S.
struct BaseConverter {
  std::vector<int> source;                       // prime indices
  std::vector<uint64_t> inv_hat, inv_hat_shoup;  // (S/s_i)^-1 mod s_i
  std::vector<uint64_t> hat_mod;                 // [prime index][i]: (S/s_i) mod that prime, for every prime
  std::vector<uint64_t> product_mod;             // [prime index]: S mod that prime
  // src: |S| limbs of N coefficients (coefficient form) -> dst[t]: the limb for targets[t] (N coefficients).
  // centered = true: the exact centered representative of x in (-S/2, S/2], the multiple of S being found from
  // round(sum_i y_i / s_i) in double precision (Halevi–Polyakov–Shoup 2019); ModDown uses it so that the division
  // by P rounds to nearest instead of leaving a biased (non-zero mean) error that concentrates in some slots.
  void convert(const Context& ctx, const uint64_t* src, const std::vector<int>& targets,
               const std::vector<uint64_t*>& dst, bool centered = false) const;
};

class Context {
 public:
  static ContextPtr create(const Parameters& params);

  const Parameters& parameters() const { return params_; }
  size_t poly_degree() const { return n_; }
  size_t slot_count() const { return n_ / 2; }
  int max_level() const { return params_.max_level(); }
  int special_prime_count() const { return static_cast<int>(params_.p().size()); }
  int digit_size() const { return params_.digit_size(); }
  int digit_count(int level) const { return (level + digit_size()) / digit_size(); }  // digits covering q_0..q_level
  int prime_count() const { return static_cast<int>(moduli_.size()); }
  int special_prime_index(int k) const { return max_level() + 1 + k; }

  uint64_t prime(int index) const { return moduli_[index].value; }
  const Modulus& modulus(int index) const { return moduli_[index]; }
  const NttTables& ntt(int index) const { return ntt_[index]; }

  // ModUp of digit `digit` at `level`: source = its primes among q_0..q_level (targets chosen by the caller).
  const BaseConverter& mod_up_converter(int digit, int level) const;
  // ModDown: source = P.
  const BaseConverter& mod_down_converter() const { return mod_down_; }
  uint64_t inv_p_mod_q(int i) const { return inv_p_mod_q_[i]; }  // P^-1 mod q_i
  uint64_t inv_p_mod_q_shoup(int i) const { return inv_p_mod_q_shoup_[i]; }
  uint64_t p_mod_q(int i) const { return p_mod_q_[i]; }            // P mod q_i
  // q_level^-1 mod q_i (i < level), for rescaling.
  uint64_t inv_q_last(int level, int i) const { return inv_q_last_[level][i]; }

  // Galois elements: rotation to the left by `steps` slots (negative = right) is X -> X^(5^steps mod 2N);
  // conjugation is X -> X^(2N-1).
  uint64_t galois_element(int steps) const;
  uint64_t conjugation_element() const { return 2 * n_ - 1; }
  // Index permutation of the automorphism X -> X^g in NTT (bit-reversed evaluation) form: out[j] = in[perm[j]].
  std::vector<uint32_t> galois_permutation_ntt(uint64_t galois_elt) const;

  // Centered CRT lift of an RNS polynomial (level+1 limbs, coefficient form) to doubles, divided by `divisor`.
  void crt_compose(const uint64_t* limbs, int level, double divisor, double* out) const;

  // Powers of 5 mod 2N and the complex 2N-th roots used by the canonical-embedding FFT.
  const std::vector<uint64_t>& rotation_group() const { return rot_group_; }
  const std::vector<std::complex<double>>& roots_2n() const { return roots_2n_; }

 private:
  Context() = default;
  Parameters params_;
  size_t n_ = 0;
  std::vector<Modulus> moduli_;
  std::vector<NttTables> ntt_;
  std::vector<std::vector<BaseConverter>> mod_up_;  // [digit][active primes in digit - 1]
  BaseConverter mod_down_;
  std::vector<uint64_t> inv_p_mod_q_, inv_p_mod_q_shoup_, p_mod_q_;
  std::vector<std::vector<uint64_t>> inv_q_last_;
  std::vector<std::vector<uint64_t>> garner_inv_;  // [i][j < i]: q_j^-1 mod q_i (CRT composition)
  std::vector<uint64_t> rot_group_;
  std::vector<uint32_t> bit_reversed_;  // bitrev(j) over log N bits
  std::vector<std::complex<double>> roots_2n_;
};

}  // namespace cryptounet::ckks
