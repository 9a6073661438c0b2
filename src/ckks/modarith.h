// 64-bit modular arithmetic for NTT-friendly primes q < 2^61.
//
// Shoup multiplication (a fixed operand w with its precomputed floor(w * 2^64 / q)) is the workhorse of the NTT
// and of scalar products; Barrett reduction of 128-bit values is used where both operands vary.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace cryptounet::ckks {

using u128 = unsigned __int128;
using i128 = __int128;

inline uint64_t mul_hi(uint64_t a, uint64_t b) { return static_cast<uint64_t>((static_cast<u128>(a) * b) >> 64); }

inline uint64_t add_mod(uint64_t a, uint64_t b, uint64_t q) {
  const uint64_t s = a + b;
  return s >= q ? s - q : s;
}
inline uint64_t sub_mod(uint64_t a, uint64_t b, uint64_t q) { return a >= b ? a - b : a + q - b; }
inline uint64_t neg_mod(uint64_t a, uint64_t q) { return a == 0 ? 0 : q - a; }

// floor(w * 2^64 / q), for w < q.
inline uint64_t shoup_precompute(uint64_t w, uint64_t q) {
  return static_cast<uint64_t>((static_cast<u128>(w) << 64) / q);
}
// a * w mod q in [0, 2q) for any a < 2^64 (Shoup 2007 / Harvey 2014).
inline uint64_t mul_shoup_lazy(uint64_t a, uint64_t w, uint64_t w_shoup, uint64_t q) {
  return a * w - mul_hi(a, w_shoup) * q;
}
inline uint64_t mul_shoup(uint64_t a, uint64_t w, uint64_t w_shoup, uint64_t q) {
  const uint64_t r = mul_shoup_lazy(a, w, w_shoup, q);
  return r >= q ? r - q : r;
}

// A prime modulus with its Barrett constant floor(2^128 / q).
struct Modulus {
  uint64_t value = 0;
  uint64_t ratio_hi = 0;  // floor(2^128 / q) >> 64 == floor(2^64 / q)
  uint64_t ratio_lo = 0;

  Modulus() = default;
  explicit Modulus(uint64_t q) : value(q) {
    if (q < 2 || q >= (uint64_t{1} << 61)) throw std::invalid_argument("Modulus: q must be in [2, 2^61)");
    const u128 ratio = ~static_cast<u128>(0) / q;  // q is odd, so this equals floor(2^128 / q)
    ratio_hi = static_cast<uint64_t>(ratio >> 64);
    ratio_lo = static_cast<uint64_t>(ratio);
  }

  // x mod q for any 64-bit x.
  uint64_t reduce(uint64_t x) const {
    const uint64_t r = x - mul_hi(x, ratio_hi) * value;
    return r >= value ? r - value : r;
  }
  // x mod q in [0, 4q) for any 128-bit x: the quotient estimate floor(x * ratio / 2^128) is low by at most 3.
  uint64_t reduce_lazy(u128 x) const {
    const uint64_t xl = static_cast<uint64_t>(x), xh = static_cast<uint64_t>(x >> 64);
    const u128 p_lh = static_cast<u128>(xl) * ratio_hi;
    const u128 p_hl = static_cast<u128>(xh) * ratio_lo;
    const u128 mid = static_cast<u128>(mul_hi(xl, ratio_lo)) + static_cast<uint64_t>(p_lh) + static_cast<uint64_t>(p_hl);
    const uint64_t quotient = xh * ratio_hi + static_cast<uint64_t>(p_lh >> 64) + static_cast<uint64_t>(p_hl >> 64) +
                              static_cast<uint64_t>(mid >> 64);
    return xl - quotient * value;
  }
  uint64_t reduce(u128 x) const {
    uint64_t r = reduce_lazy(x);
    if (r >= 2 * value) r -= 2 * value;
    return r >= value ? r - value : r;
  }
  uint64_t mul(uint64_t a, uint64_t b) const { return reduce(static_cast<u128>(a) * b); }
  // A signed integer (|x| < 2^127) modulo q, in [0, q).
  uint64_t reduce_signed(i128 x) const {
    if (x >= 0) return reduce(static_cast<u128>(x));
    return neg_mod(reduce(static_cast<u128>(-x)), value);
  }
};

inline uint64_t pow_mod(uint64_t base, uint64_t exponent, uint64_t q) {
  uint64_t result = 1 % q;
  base %= q;
  while (exponent) {
    if (exponent & 1) result = static_cast<uint64_t>(static_cast<u128>(result) * base % q);
    base = static_cast<uint64_t>(static_cast<u128>(base) * base % q);
    exponent >>= 1;
  }
  return result;
}
// Inverse modulo a prime q (Fermat).
inline uint64_t inv_mod(uint64_t a, uint64_t q) {
  if (a % q == 0) throw std::invalid_argument("inv_mod: not invertible");
  return pow_mod(a, q - 2, q);
}

}  // namespace cryptounet::ckks
