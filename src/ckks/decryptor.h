// Decryption: m = c0 + c1*s over q_0..level (NTT form), returned as a Plaintext with the ciphertext's scale.
#pragma once

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/keys.h"
#include "ckks/plaintext.h"

namespace cryptounet::ckks {

class Decryptor {
 public:
  Decryptor(ContextPtr ctx, const SecretKey& secret_key);
  Plaintext decrypt(const Ciphertext& ct) const;

 private:
  ContextPtr ctx_;
  SecretKey secret_;
};

}  // namespace cryptounet::ckks
