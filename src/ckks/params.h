// CKKS parameters: ring degree, the ciphertext modulus chain Q = q_0 ... q_L and the special primes P = p_0 ... p_{K-1}
// used by hybrid key switching. Primes are generated deterministically from (log N, bit sizes) and validated against
// the HomomorphicEncryption.org 128-bit bound for a uniform ternary secret.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cryptounet::ckks {

struct ParameterSpec {
  int log_n = 15;           // kMinLogN to kMaxLogN
  std::vector<int> q_bits;  // q_0 (large, final precision) then the scaling primes; each in [20, 60]
  std::vector<int> p_bits;  // special primes; alpha = |P| primes per key-switching digit; each in [20, 60]
};

// Ring degrees with a 128-bit bound below: N = 2^13 ... 2^17 (2^17 holds about twice the levels of 2^16).
inline constexpr int kMinLogN = 13;
inline constexpr int kMaxLogN = 17;

// Largest log2(QP) allowed at 128-bit classical security for a uniform ternary secret: 218/438/881/1747/3523 bits for
// log N 13/14/15/16/17 (OpenFHE 1.5.1's table; 13-15 are the HomomorphicEncryption.org standard's). Throws
// std::invalid_argument for other log N.
int max_log_qp_128bit(int log_n);

class Parameters {
 public:
  // Generates primes q = 1 mod 2N just below 2^bits (largest first, no repeats) and refuses sets whose log2(QP)
  // exceeds max_log_qp_128bit(log_n) (std::invalid_argument naming the bound).
  static Parameters create(const ParameterSpec& spec);

  int log_n() const { return log_n_; }
  size_t poly_degree() const { return size_t{1} << log_n_; }
  const std::vector<uint64_t>& q() const { return q_; }
  const std::vector<uint64_t>& p() const { return p_; }
  int max_level() const { return static_cast<int>(q_.size()) - 1; }
  // Key-switching digits: alpha = |P| primes of Q per digit, dnum = ceil((L+1)/alpha).
  int digit_size() const { return static_cast<int>(p_.size()); }
  int digit_count() const { return (static_cast<int>(q_.size()) + digit_size() - 1) / digit_size(); }
  double log_qp() const;  // exact log2(Q * P) of the generated primes
  // BLAKE2b-256 of (log N, all primes): identifies the parameter set in serialized objects.
  const std::array<uint8_t, 32>& fingerprint() const { return fingerprint_; }
  const ParameterSpec& spec() const { return spec_; }

  bool operator==(const Parameters& other) const { return fingerprint_ == other.fingerprint_; }

 private:
  ParameterSpec spec_;
  int log_n_ = 0;
  std::vector<uint64_t> q_, p_;
  std::array<uint8_t, 32> fingerprint_{};
};

// log2(QP) implied by a spec (sum of the bit sizes; the generated primes are slightly below 2^bits).
double log_qp_bits(const ParameterSpec& spec);

bool is_prime(uint64_t n);  // deterministic Miller–Rabin for 64-bit n

}  // namespace cryptounet::ckks
