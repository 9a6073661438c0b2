// Negacyclic number-theoretic transform over Z_q[X]/(X^N + 1).
//
// Forward: Cooley–Tukey with Harvey's lazy butterflies (values kept in [0, 4q)) and Shoup constants; the output is in
// bit-reversed order: a_hat[j] = a(psi^(2*bitrev(j)+1)), psi a primitive 2N-th root of unity. Inverse:
// Gentleman–Sande. Both take and return values in [0, q). ntt_forward/ntt_inverse dispatch at run time to the
// AVX-512 IFMA kernels (52-bit multipliers; primes < 2^50) when the CPU has them, else to the exact scalar path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cryptounet::ckks {

// The `bits`-bit reversal of x (NTT output order, Galois permutations).
uint32_t bit_reverse(uint32_t x, int bits);

struct NttTables {
  uint64_t q = 0;
  int log_n = 0;
  size_t n = 0;
  uint64_t psi = 0;                         // primitive 2N-th root of unity mod q
  std::vector<uint64_t> roots, roots_shoup;  // roots[k] = psi^bitrev(k), k in [1, N)
  std::vector<uint64_t> inv_roots, inv_roots_shoup;  // inv_roots[k] = psi^-bitrev(k)
  std::vector<uint64_t> roots_shoup52, inv_roots_shoup52;  // floor(w * 2^52 / q), IFMA kernels (q < 2^50 only)
  uint64_t inv_n = 0, inv_n_shoup = 0, inv_n_shoup52 = 0;

  // q prime, q = 1 mod 2N, q < 2^61. Deterministic: psi is the smallest primitive 2N-th root found from g = 2, 3, ...
  static NttTables create(uint64_t q, int log_n);
  bool ifma_eligible() const { return q < (uint64_t{1} << 50); }
};

void ntt_forward(uint64_t* a, const NttTables& tables);
void ntt_inverse(uint64_t* a, const NttTables& tables);

// The two implementations, exposed so they can be tested against each other.
void ntt_forward_scalar(uint64_t* a, const NttTables& tables);
void ntt_inverse_scalar(uint64_t* a, const NttTables& tables);
bool ifma_supported();  // CPU has AVX-512F + AVX-512 IFMA
void ntt_forward_ifma(uint64_t* a, const NttTables& tables);  // requires ifma_supported() && tables.ifma_eligible()
void ntt_inverse_ifma(uint64_t* a, const NttTables& tables);

}  // namespace cryptounet::ckks
