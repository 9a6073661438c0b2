// Homomorphic operations on ciphertexts (all in NTT form, OpenMP over limbs; results do not depend on the thread
// count).
//
// Level and scale rules: binary operations on two ciphertexts, or a ciphertext and a plaintext, that add require
// the same level and the same scale; scales are "equal" when |s1 - s2| <= 1e-9 * max(s1, s2). A mismatch throws
// std::invalid_argument naming both values. mul_plain accepts a plaintext at a level >= the ciphertext's (extra
// limbs are ignored). Multiplications multiply scales; rescale divides the scale by the dropped prime q_level
// exactly (so scales are tracked exactly, never rounded to a power of two).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/keys.h"
#include "ckks/plaintext.h"

namespace cryptounet::ckks {

// Throws std::invalid_argument unless the scales are equal within a relative 1e-9.
void check_same_scale(double a, double b, const char* operation);

class Evaluator {
 public:
  explicit Evaluator(ContextPtr ctx);
  const ContextPtr& context() const { return ctx_; }

  Ciphertext add(const Ciphertext& a, const Ciphertext& b) const;
  Ciphertext sub(const Ciphertext& a, const Ciphertext& b) const;
  Ciphertext negate(const Ciphertext& a) const;
  void add_inplace(Ciphertext& a, const Ciphertext& b) const;
  void sub_inplace(Ciphertext& a, const Ciphertext& b) const;
  void negate_inplace(Ciphertext& a) const;

  Ciphertext add_plain(const Ciphertext& a, const Plaintext& p) const;
  Ciphertext sub_plain(const Ciphertext& a, const Plaintext& p) const;
  void add_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  void sub_plain_inplace(Ciphertext& a, const Plaintext& p) const;

  // Adds the real constant c to every slot (encoded as round(c * a.scale()); no level used).
  Ciphertext add_const(const Ciphertext& a, double c) const;
  void add_const_inplace(Ciphertext& a, double c) const;

  // Slot-wise product; result scale = a.scale() * p.scale().
  Ciphertext mul_plain(const Ciphertext& a, const Plaintext& p) const;
  void mul_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  // Multiplication by an integer (any int64); the scale is unchanged.
  Ciphertext mul_int(const Ciphertext& a, int64_t c) const;
  void mul_int_inplace(Ciphertext& a, int64_t c) const;
  // Multiplication by a real constant encoded as the integer round(c * const_scale); result scale =
  // a.scale() * const_scale. Without const_scale, q_level is used, so that a following rescale restores a.scale().
  Ciphertext mul_const(const Ciphertext& a, double c, double const_scale) const;
  Ciphertext mul_const(const Ciphertext& a, double c) const;

  // Tensor product and relinearization (hybrid key switching); both at the same level; scale = product.
  Ciphertext multiply_relin(const Ciphertext& a, const Ciphertext& b, const RelinKey& rk) const;
  Ciphertext square_relin(const Ciphertext& a, const RelinKey& rk) const;

  // Divides by q_level with centered rounding; level - 1; scale / q_level.
  Ciphertext rescale(const Ciphertext& a) const;
  void rescale_inplace(Ciphertext& a) const;
  Ciphertext drop_to_level(const Ciphertext& a, int level) const;
  void drop_to_level_inplace(Ciphertext& a, int level) const;

  // Left rotation of the slots by `steps` (negative = right); steps are taken modulo slot_count(); 0 copies.
  Ciphertext rotate(const Ciphertext& a, int steps, const GaloisKeys& gk) const;
  Ciphertext conjugate(const Ciphertext& a, const GaloisKeys& gk) const;
  // Hoisted rotations (Halevi–Shoup 2018; Bossuat et al. 2020/1203): one INTT + digit decomposition + ModUp of c1,
  // then per step an automorphism (an index permutation in NTT form), the key inner product and ModDown.
  std::vector<Ciphertext> rotate_hoisted(const Ciphertext& a, std::span<const int> steps, const GaloisKeys& gk) const;
  // sum_t rotate(terms[t], steps[t]) with one ModDown (double hoisting, Bossuat et al. 2021): every term's key
  // switch stays over Q * P, the products are summed there and divided by P once, so n rotations cost n ModUps and
  // one ModDown instead of n of each (and one rounding instead of n). Terms at one level and scale; step 0 adds.
  Ciphertext rotate_and_sum(std::span<const Ciphertext> terms, std::span<const int> steps,
                            const GaloisKeys& gk) const;

  // Applies X -> X^g with the matching key from gk (throws if missing).
  Ciphertext apply_galois(const Ciphertext& a, uint64_t galois_elt, const GaloisKeys& gk) const;

 private:
  const KeySwitchKey& galois_key(uint64_t galois_elt, const GaloisKeys& gk, int steps_for_message) const;
  ContextPtr ctx_;
};

}  // namespace cryptounet::ckks
