#include "henn/flooding.h"

#include "ckks/ntt.h"

#include <sodium.h>

#include <bit>
#include <stdexcept>
#include <string>
#include <vector>

namespace cryptounet::henn {

void flood_noise(const ckks::Context& context, ckks::Ciphertext& ciphertext, int bits) {
  if (bits < 1 || bits > kMaxFloodBits)
    throw std::invalid_argument("flood_noise: bits must be in [1, " + std::to_string(kMaxFloodBits) + "]");
  // The result is decrypted modulo q_0: noise of its size would wrap around and destroy the result.
  if (const int room = std::bit_width(context.prime(0)) - 2; bits > room)
    throw std::invalid_argument("flood_noise: " + std::to_string(bits) + " bits of noise do not fit the " +
                                std::to_string(room + 2) + "-bit prime q_0 the result is decrypted modulo");
  if (sodium_init() < 0) throw std::runtime_error("flood_noise: libsodium failed to initialise");
  const std::size_t n = ciphertext.poly_degree();
  // Uniform in [0, 2^(bits+1)) from the top bits of a uniform 64-bit word, then centred: exactly uniform on
  // [-2^bits, 2^bits).
  std::vector<std::uint64_t> raw(n);
  randombytes_buf(raw.data(), n * sizeof(std::uint64_t));
  std::vector<std::int64_t> noise(n);
  for (std::size_t j = 0; j < n; ++j)
    noise[j] = static_cast<std::int64_t>(raw[j] >> (63 - bits)) - (std::int64_t{1} << bits);
  sodium_memzero(raw.data(), n * sizeof(std::uint64_t));

  std::vector<std::uint64_t> limb(n);
  for (int i = 0; i <= ciphertext.level(); ++i) {
    const std::uint64_t q = context.prime(i);
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint64_t magnitude = static_cast<std::uint64_t>(noise[j] < 0 ? -noise[j] : noise[j]) % q;
      limb[j] = noise[j] < 0 && magnitude != 0 ? q - magnitude : magnitude;
    }
    ckks::ntt_forward(limb.data(), context.ntt(i));
    std::uint64_t* c0 = ciphertext.limb(0, i);
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint64_t sum = c0[j] + limb[j];
      c0[j] = sum >= q ? sum - q : sum;
    }
  }
}

void flood_noise(const ckks::Context& context, EncryptedBatch& result, int bits) {
  for (auto& ct : result.ciphertexts) flood_noise(context, ct, bits);
}

}  // namespace cryptounet::henn
