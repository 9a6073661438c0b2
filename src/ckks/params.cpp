#include "ckks/params.h"

#include <sodium.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "ckks/modarith.h"

namespace cryptounet::ckks {

bool is_prime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t p : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int r = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++r;
  }
  // These 12 bases are a deterministic Miller–Rabin witness set for all n < 2^64.
  for (uint64_t a : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    uint64_t x = pow_mod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int i = 1; i < r; ++i) {
      x = static_cast<uint64_t>(static_cast<u128>(x) * x % n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

// OpenFHE v1.5.1, src/core/lib/lattice/stdlatticeparms.cpp: StdLatticeParm(HEStd_ternary, N, HEStd_128_classic,
// log2 Q) — the HomomorphicEncryption.org standard up to 2^15, the lattice estimator beyond.
int max_log_qp_128bit(int log_n) {
  switch (log_n) {
    case 13: return 218;
    case 14: return 438;
    case 15: return 881;
    case 16: return 1747;
    case 17: return 3523;
    default: throw std::invalid_argument("Parameters: log N must be in [" + std::to_string(kMinLogN) + ", " +
                                     std::to_string(kMaxLogN) + "], got " + std::to_string(log_n));
  }
}

double log_qp_bits(const ParameterSpec& spec) {
  double total = 0;
  for (int b : spec.q_bits) total += b;
  for (int b : spec.p_bits) total += b;
  return total;
}

double Parameters::log_qp() const {
  double total = 0;
  for (uint64_t q : q_) total += std::log2(static_cast<double>(q));
  for (uint64_t p : p_) total += std::log2(static_cast<double>(p));
  return total;
}

Parameters Parameters::create(const ParameterSpec& spec) {
  const int bound = max_log_qp_128bit(spec.log_n);
  if (spec.q_bits.empty()) throw std::invalid_argument("Parameters: q_bits must not be empty");
  if (spec.p_bits.empty()) throw std::invalid_argument("Parameters: p_bits must not be empty (hybrid key switching)");
  for (const auto* bits : {&spec.q_bits, &spec.p_bits}) {
    for (int b : *bits) {
      if (b < 20 || b > 60) throw std::invalid_argument("Parameters: prime sizes must be in [20, 60] bits, got " +
                                                        std::to_string(b));
    }
  }
  const double requested = log_qp_bits(spec);
  if (requested > bound) {
    throw std::invalid_argument("Parameters: log2(QP) = " + std::to_string(static_cast<int>(requested)) +
                                " bits exceeds the 128-bit security bound of " + std::to_string(bound) +
                                " bits for N = 2^" + std::to_string(spec.log_n) +
                                " (ternary secret, classical attacks)");
  }
  Parameters params;
  params.spec_ = spec;
  params.log_n_ = spec.log_n;
  const uint64_t two_n = uint64_t{2} << spec.log_n;
  std::set<uint64_t> used;
  // Largest unused prime q = 1 mod 2N below 2^bits.
  auto next_prime = [&](int bits) {
    uint64_t candidate = (uint64_t{1} << bits) - two_n + 1;
    while (candidate > two_n) {
      if (!used.count(candidate) && is_prime(candidate)) {
        used.insert(candidate);
        return candidate;
      }
      candidate -= two_n;
    }
    throw std::invalid_argument("Parameters: ran out of " + std::to_string(bits) + "-bit NTT primes");
  };
  for (int b : spec.q_bits) params.q_.push_back(next_prime(b));
  for (int b : spec.p_bits) params.p_.push_back(next_prime(b));

  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, params.fingerprint_.size());
  const char domain[] = "cryptounet.ckks.parameters.v1";
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(domain), sizeof(domain));
  const uint64_t header[3] = {static_cast<uint64_t>(spec.log_n), params.q_.size(), params.p_.size()};
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(header), sizeof(header));
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(params.q_.data()), params.q_.size() * 8);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(params.p_.data()), params.p_.size() * 8);
  crypto_generichash_final(&state, params.fingerprint_.data(), params.fingerprint_.size());
  return params;
}

}  // namespace cryptounet::ckks
