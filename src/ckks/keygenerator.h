// Key generation: uniform ternary secret, rounded Gaussian errors (sigma = 3.2, cut at 6 sigma), CSPRNG from libsodium.
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
  RelinKey create_relin_key() const;
  // Keys for the given rotation steps only (left rotation by `step` slots; negative = right). Steps are taken
  // modulo slot_count(); step 0 needs no key and is skipped.
  GaloisKeys create_galois_keys(std::span<const int> steps, bool with_conjugation = false) const;
  // Adds the conjugation key to `keys`.
  void add_conjugation_key(GaloisKeys& keys) const;

 private:
  KeySwitchKey create_switch_key(const uint64_t* new_secret_ntt) const;  // from new_secret (all primes) to s
  ContextPtr ctx_;
  SecretKey secret_;
};

}  // namespace cryptounet::ckks
