// Encryption with the public key, (v*pk.b + e0 + m, v*pk.a + e1) for ternary v, or with the secret key,
// (-a*s + e + m, a) with a derived from a fresh 32-byte seed (half-size serialization).
#pragma once

#include <optional>

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/keys.h"
#include "ckks/plaintext.h"

namespace cryptounet::ckks {

class Encryptor {
 public:
  Encryptor(ContextPtr ctx, const PublicKey& public_key);
  Encryptor(ContextPtr ctx, const SecretKey& secret_key);

  // The ciphertext has the plaintext's level and scale.
  Ciphertext encrypt(const Plaintext& pt) const;
  Ciphertext encrypt_zero(int level, double scale) const;

 private:
  ContextPtr ctx_;
  std::optional<PublicKey> public_key_;
  std::optional<SecretKey> secret_key_;
};

}  // namespace cryptounet::ckks
