// Randomness, all from libsodium: fresh seeds and ternary/Gaussian samples from randombytes (a CSPRNG), and
// deterministic expansion of a 32-byte seed with ChaCha20 (IETF, 96-bit nonce = stream id) for public "a" parts.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "ckks/context.h"
#include "ckks/keys.h"
#include "ckks/secret_buffer.h"

namespace cryptounet::ckks {

Seed random_seed();

// Uniform polynomial mod each prime in `prime_indices` (limb by limb, rejection sampling), derived from
// (seed, stream): identical output for identical inputs. Written to out (prime_indices.size() limbs of N).
void sample_uniform(const Context& ctx, const Seed& seed, uint32_t stream, const std::vector<int>& prime_indices,
                    uint64_t* out);

// Uniform ternary coefficients in {-1, 0, 1} (CSPRNG); secrets, hence wiped when freed.
SecretVector<int8_t> sample_ternary(size_t n);
// Discrete Gaussian D_{Z,3.2} truncated at |x| <= 19 (6 sigma), by CDT inversion of 64-bit CSPRNG words; the errors
// of keys and fresh ciphertexts are secret too.
SecretVector<int8_t> sample_gaussian(size_t n);

// Small signed coefficients -> NTT form over the given primes (limb by limb). Constant time in the coefficients:
// the sign selects q - |c| or c arithmetically, without a branch.
void small_to_ntt(const Context& ctx, std::span<const int8_t> coeffs, const std::vector<int>& prime_indices,
                  uint64_t* out);

// Indices 0..level, optionally followed by the special primes.
std::vector<int> prime_range(const Context& ctx, int level, bool with_special);

}  // namespace cryptounet::ckks
