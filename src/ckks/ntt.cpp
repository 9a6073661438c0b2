#include "ckks/ntt.h"

#include <stdexcept>

#include "ckks/modarith.h"

namespace cryptounet::ckks {

uint32_t bit_reverse(uint32_t x, int bits) {
  uint32_t r = 0;
  for (int i = 0; i < bits; ++i) r |= ((x >> i) & 1u) << (bits - 1 - i);
  return r;
}

NttTables NttTables::create(uint64_t q, int log_n) {
  NttTables t;
  t.q = q;
  t.log_n = log_n;
  t.n = size_t{1} << log_n;
  const uint64_t two_n = 2 * t.n;
  if (q >= (uint64_t{1} << 61) || (q - 1) % two_n != 0) throw std::invalid_argument("NttTables: q must be 1 mod 2N");
  for (uint64_t g = 2;; ++g) {
    const uint64_t candidate = pow_mod(g, (q - 1) / two_n, q);
    if (pow_mod(candidate, t.n, q) == q - 1) {  // order exactly 2N
      t.psi = candidate;
      break;
    }
    if (g > 1000) throw std::invalid_argument("NttTables: no primitive 2N-th root (is q prime?)");
  }
  const uint64_t psi_inv = inv_mod(t.psi, q);
  t.roots.assign(t.n, 0);
  t.inv_roots.assign(t.n, 0);
  t.roots_shoup.assign(t.n, 0);
  t.inv_roots_shoup.assign(t.n, 0);
  t.roots_shoup52.assign(t.n, 0);
  t.inv_roots_shoup52.assign(t.n, 0);
  std::vector<uint64_t> pow(t.n), inv_pow(t.n);
  pow[0] = inv_pow[0] = 1;
  for (size_t i = 1; i < t.n; ++i) {
    pow[i] = static_cast<uint64_t>(static_cast<u128>(pow[i - 1]) * t.psi % q);
    inv_pow[i] = static_cast<uint64_t>(static_cast<u128>(inv_pow[i - 1]) * psi_inv % q);
  }
  const bool eligible52 = t.ifma_eligible();
  for (size_t k = 1; k < t.n; ++k) {
    const uint32_t e = bit_reverse(static_cast<uint32_t>(k), log_n);
    t.roots[k] = pow[e];
    t.inv_roots[k] = inv_pow[e];
    t.roots_shoup[k] = shoup_precompute(t.roots[k], q);
    t.inv_roots_shoup[k] = shoup_precompute(t.inv_roots[k], q);
    if (eligible52) {
      t.roots_shoup52[k] = static_cast<uint64_t>((static_cast<u128>(t.roots[k]) << 52) / q);
      t.inv_roots_shoup52[k] = static_cast<uint64_t>((static_cast<u128>(t.inv_roots[k]) << 52) / q);
    }
  }
  t.inv_n = inv_mod(t.n % q, q);
  t.inv_n_shoup = shoup_precompute(t.inv_n, q);
  if (eligible52) t.inv_n_shoup52 = static_cast<uint64_t>((static_cast<u128>(t.inv_n) << 52) / q);
  return t;
}

void ntt_forward_scalar(uint64_t* a, const NttTables& tables) {
  const uint64_t q = tables.q, two_q = 2 * q;
  const size_t n = tables.n;
  size_t t = n;
  for (size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    for (size_t i = 0; i < m; ++i) {
      const uint64_t w = tables.roots[m + i], ws = tables.roots_shoup[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; ++j) {
        // Harvey: inputs in [0, 4q), outputs in [0, 4q).
        uint64_t u = x[j];
        u = u >= two_q ? u - two_q : u;
        const uint64_t v = mul_shoup_lazy(y[j], w, ws, q);
        x[j] = u + v;
        y[j] = u - v + two_q;
      }
    }
  }
  for (size_t j = 0; j < n; ++j) {
    uint64_t u = a[j];
    u = u >= two_q ? u - two_q : u;
    a[j] = u >= q ? u - q : u;
  }
}

void ntt_inverse_scalar(uint64_t* a, const NttTables& tables) {
  const uint64_t q = tables.q, two_q = 2 * q;
  const size_t n = tables.n;
  size_t t = 1;
  for (size_t m = n >> 1; m >= 1; m >>= 1) {
    for (size_t i = 0; i < m; ++i) {
      const uint64_t w = tables.inv_roots[m + i], ws = tables.inv_roots_shoup[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; ++j) {
        // Gentleman–Sande: inputs in [0, 2q), outputs in [0, 2q).
        const uint64_t u = x[j], v = y[j];
        uint64_t s = u + v;
        s = s >= two_q ? s - two_q : s;
        x[j] = s;
        y[j] = mul_shoup_lazy(u - v + two_q, w, ws, q);
      }
    }
    t <<= 1;
  }
  for (size_t j = 0; j < n; ++j) a[j] = mul_shoup(a[j], tables.inv_n, tables.inv_n_shoup, q);
}

void ntt_forward(uint64_t* a, const NttTables& tables) {
  static const bool ifma = ifma_supported();
  if (ifma && tables.ifma_eligible() && tables.n >= 16)
    ntt_forward_ifma(a, tables);
  else
    ntt_forward_scalar(a, tables);
}

void ntt_inverse(uint64_t* a, const NttTables& tables) {
  static const bool ifma = ifma_supported();
  if (ifma && tables.ifma_eligible() && tables.n >= 16)
    ntt_inverse_ifma(a, tables);
  else
    ntt_inverse_scalar(a, tables);
}

}  // namespace cryptounet::ckks
