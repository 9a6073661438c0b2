// Key material. Everything is stored in NTT form. Public "a" parts are derived from a 32-byte seed (ChaCha20, see
// random.h) so that public, relinearization and Galois keys serialize at half size.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "ckks/secret_buffer.h"

namespace cryptounet::ckks {

using Seed = std::array<uint8_t, 32>;

// Uniform ternary secret s, in NTT form over all primes q_0..q_L, p_0..p_{K-1}; every copy is wiped when freed.
struct SecretKey {
  SecretVector<uint64_t> data;  // prime_count limbs of N
  size_t memory_bytes() const { return data.size() * sizeof(uint64_t); }
};

// (b, a) = (-a*s + e, a) over q_0..q_L.
struct PublicKey {
  std::vector<uint64_t> b, a;
  Seed seed{};  // a = uniform(seed)
  size_t memory_bytes() const { return (b.size() + a.size()) * sizeof(uint64_t); }
};

// Hybrid key-switching key from s' to s (Han–Ki 2020): for each digit j (alpha consecutive primes of Q),
// b_j = -a_j*s + e_j + P*[j-th CRT idempotent]*s' and a_j, over q_0..q_level then P. Stored once,
// [digit][limb][coefficient]; key switching at level l <= `level` reads only limbs 0..l and the special limbs. A key
// generated with a max_level below L holds only the digits and limbs that level needs (less memory).
struct KeySwitchKey {
  int level = 0;               // highest q limb stored
  int digit_count = 0;         // digits covering q_0..q_level
  std::vector<uint64_t> b, a;  // digit_count * (level + 1 + K) * N each
  Seed seed{};                 // a_j = uniform(seed, digit j)
  size_t memory_bytes() const { return (b.size() + a.size()) * sizeof(uint64_t); }
};

using RelinKey = KeySwitchKey;  // switches s^2 -> s

// Key-switching keys for automorphisms X -> X^g, indexed by the Galois element g (see Context::galois_element).
struct GaloisKeys {
  std::map<uint64_t, KeySwitchKey> keys;
  bool has(uint64_t galois_elt) const { return keys.count(galois_elt) != 0; }
  size_t memory_bytes() const {
    size_t total = 0;
    for (const auto& [g, key] : keys) total += key.memory_bytes();
    return total;
  }
};

}  // namespace cryptounet::ckks
