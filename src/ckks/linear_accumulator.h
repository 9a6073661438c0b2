// Lazy multiply-accumulate at a fixed level: sum_i c_i * ct_i (integers c_i, |c_i| < 2^31) and sum_j ct_j (.) pt_j,
// with no modular reduction of the accumulator per term and no rescale: up to 16 integer terms are summed and
// reduced at once (in [0, q)), a plaintext term is a Barrett product (in [0, q)), vectorized with IFMA for primes
// < 2^50, added to a 64-bit accumulator; a limb is reduced only when its next sum could overflow 2^64 (after
// ~2^64 / q sums: 15 for a 60-bit prime, ~2^24 for a 40-bit one). Memory: one ciphertext.
//
// Scale semantics: an integer term c * ct stands for the real (c / integer_scale) * ct, so its result scale is
// ct.scale() * integer_scale; a plaintext term's result scale is ct.scale() * pt.scale(). Every term must give the
// same result scale (relative 1e-9; std::invalid_argument otherwise), which finish() returns as the scale.
// Terms may come from ciphertexts/plaintexts at a level >= the accumulator's (their extra limbs are ignored).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ckks/buffer.h"
#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/plaintext.h"

namespace cryptounet::ckks {

class LinearAccumulator {
 public:
  LinearAccumulator(ContextPtr ctx, int level, double integer_scale = 1.0);

  void add_int(const Ciphertext& ct, int64_t c);               // += c * ct
  // accs[r] += sum_t coefficients[r * terms.size() + t] * terms[t] for every r (|c| < 2^31; a zero coefficient
  // costs nothing but counts as a term: an accumulator of zero terms finishes to the zero ciphertext),
  // all accumulators at one level of one context. One pass over memory: each block of coefficients of the terms is
  // read once for all accumulators, and each accumulator is read and written once per 16 terms, where single
  // add_int calls read and write it once per term (a linear layer's integer MACs are memory-bound).
  static void add_int_rows(std::span<LinearAccumulator* const> accs, std::span<const Ciphertext* const> terms,
                           std::span<const int64_t> coefficients);
  void add_plain(const Ciphertext& ct, const Plaintext& pt);   // += ct (.) pt
  size_t term_count() const { return terms_; }
  int level() const { return level_; }
  // The accumulated ciphertext (reduced to [0, q)); the accumulator is reset (empty, same level) afterwards.
  Ciphertext finish();
  void reset();
  size_t memory_bytes() const { return acc_.size() * sizeof(uint64_t); }

 private:
  void check_term(const Ciphertext& ct, double result_scale);
  bool reserve_headroom(int limb, uint64_t term_bound);
  ContextPtr ctx_;
  int level_;
  double integer_scale_;
  double scale_ = 0;          // result scale fixed by the first term
  size_t terms_ = 0;
  LimbBuffer acc_;               // [poly][limb][coefficient], lazily reduced; a limb with bound 0 is garbage
  std::vector<uint64_t> bound_;  // per limb: an upper bound of every accumulated coefficient (0: no term yet)
};

}  // namespace cryptounet::ckks
