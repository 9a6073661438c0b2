// Noise flooding of results (server side; needs no key). A result's decryption is m + e, where the error e depends
// on the model's weights as well as on the client's input; a client that studies e across many queries learns about
// the weights. Flooding adds to c0 fresh integer noise, uniform in [-2^bits, 2^bits) on every coefficient, so that
// two results whose errors differ by d (|d| <= 2^(E+1) per coefficient) decrypt to distributions at statistical
// distance at most sum |d_i| / 2^(bits+1) <= N * 2^(E - bits) (smudging lemma for the uniform distribution).
// It hides the error only: c1 is left as inference made it (rerandomising it needs a public-key encryption of
// zero). The decrypted values move by about sqrt(N/6) * 2^bits / scale. docs/SECURITY.md gives the numbers.
#pragma once

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "henn/batch.h"

namespace cryptounet::henn {

inline constexpr int kMaxFloodBits = 60;

// bits in [1, kMaxFloodBits]; the noise comes from libsodium's CSPRNG.
void flood_noise(const ckks::Context& context, ckks::Ciphertext& ciphertext, int bits);
void flood_noise(const ckks::Context& context, EncryptedBatch& result, int bits);

}  // namespace cryptounet::henn
