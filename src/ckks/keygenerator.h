// Key generation: uniform ternary secret, discrete Gaussian errors (sigma = 3.2, cut at 6 sigma), CSPRNG from libsodium.
#pragma once

#include <span>

#include "ckks/context.h"
#include "ckks/keys.h"

namespace cryptounet::ckks {

class KeyGenerator {
 public:
  explicit KeyGenerator(ContextPtr ctx);                  // fresh secret key
  KeyGenerator(ContextPtr ctx, const SecretKey& secret);  // keys for an existing secret

  const SecretKey& secret_key() const { return secret_; }
  PublicKey create_public_key() const;
  // max_level (default: the top level L) bounds the ciphertext levels the key serves; lower means smaller keys.
  RelinKey create_relin_key(int max_level = -1) const;
  // Keys for the given rotation steps only (left rotation by `step` slots; negative = right). Steps are taken
  // modulo slot_count(); step 0 needs no key and is skipped.
  GaloisKeys create_galois_keys(std::span<const int> steps, bool with_conjugation = false, int max_level = -1) const;
  // The same with one level per step: the key of steps[i] serves levels <= max_levels[i] (a step used only deep in a
  // computation gets a key without the top primes). Steps naming the same rotation get one key, at the higher level.
  GaloisKeys create_galois_keys(std::span<const int> steps, std::span<const int> max_levels) const;
  // Adds the conjugation key to `keys`.
  void add_conjugation_key(GaloisKeys& keys, int max_level = -1) const;

 private:
  // From new_secret (NTT form, all primes) to s, for levels <= max_level.
  KeySwitchKey create_switch_key(const uint64_t* new_secret_ntt, int max_level) const;
  ContextPtr ctx_;
  SecretKey secret_;
};

}  // namespace cryptounet::ckks
