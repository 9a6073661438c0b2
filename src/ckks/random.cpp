#include "ckks/random.h"

#include <sodium.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace cryptounet::ckks {

namespace {

void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw std::runtime_error("libsodium initialization failed");
}

// ChaCha20 (IETF) keystream for (seed, stream, limb), produced in blocks of 64 bytes.
class SeededStream {
 public:
  SeededStream(const Seed& seed, uint32_t stream, uint32_t limb) : seed_(seed) {
    static_assert(crypto_stream_chacha20_ietf_NONCEBYTES == 12);
    const uint32_t words[3] = {stream, limb, 0x636b6b73u};
    std::memcpy(nonce_, words, sizeof(nonce_));
  }
  // Fills `out` with the next `count` 64-bit words.
  void next(uint64_t* out, size_t count) {
    const size_t bytes = count * 8;
    std::memset(out, 0, bytes);
    crypto_stream_chacha20_ietf_xor_ic(reinterpret_cast<unsigned char*>(out), reinterpret_cast<unsigned char*>(out),
                                       bytes, nonce_, counter_, seed_.data());
    counter_ += static_cast<uint32_t>((bytes + 63) / 64);
  }

 private:
  Seed seed_;
  unsigned char nonce_[12];
  uint32_t counter_ = 0;
};

}  // namespace

Seed random_seed() {
  ensure_sodium();
  Seed seed;
  randombytes_buf(seed.data(), seed.size());
  return seed;
}

void sample_uniform(const Context& ctx, const Seed& seed, uint32_t stream, const std::vector<int>& prime_indices,
                    uint64_t* out) {
  ensure_sodium();
  const size_t n = ctx.poly_degree();
#pragma omp parallel for schedule(static)
  for (size_t l = 0; l < prime_indices.size(); ++l) {
    const int index = prime_indices[l];
    const uint64_t q = ctx.prime(index);
    const uint64_t mask = (uint64_t{1} << (64 - __builtin_clzll(q))) - 1;
    SeededStream prng(seed, stream, static_cast<uint32_t>(index));
    std::vector<uint64_t> buffer(n);
    size_t used = n;
    uint64_t* dst = out + l * n;
    for (size_t k = 0; k < n;) {
      if (used == n) {
        prng.next(buffer.data(), n);
        used = 0;
      }
      const uint64_t v = buffer[used++] & mask;  // rejection sampling: uniform in [0, q)
      if (v < q) dst[k++] = v;
    }
  }
}

std::vector<int8_t> sample_ternary(size_t n) {
  ensure_sodium();
  std::vector<int8_t> s(n);
  std::vector<uint8_t> bytes(n);
  size_t used = n;
  for (size_t k = 0; k < n;) {
    if (used == n) {
      randombytes_buf(bytes.data(), n);
      used = 0;
    }
    const uint8_t b = bytes[used++];
    if (b < 255) s[k++] = static_cast<int8_t>(b % 3) - 1;  // 255 = 3 * 85: unbiased
  }
  return s;
}

std::vector<int8_t> sample_gaussian(size_t n) {
  ensure_sodium();
  constexpr double sigma = 3.2, bound = 6 * sigma;
  std::vector<int8_t> e(n);
  std::vector<uint64_t> words(2 * n);
  size_t used = words.size();
  auto uniform01 = [&]() {  // (0, 1], 53 random bits
    if (used == words.size()) {
      randombytes_buf(words.data(), words.size() * 8);
      used = 0;
    }
    return (static_cast<double>(words[used++] >> 11) + 1.0) * 0x1.0p-53;
  };
  for (size_t k = 0; k < n;) {
    // Box–Muller, rounded to the nearest integer, rejected beyond 6 sigma.
    const double r = sigma * std::sqrt(-2.0 * std::log(uniform01()));
    const double theta = 2 * 3.14159265358979323846 * uniform01();
    for (double x : {r * std::cos(theta), r * std::sin(theta)}) {
      if (k < n && std::fabs(x) <= bound) e[k++] = static_cast<int8_t>(std::lround(x));
    }
  }
  return e;
}

void small_to_ntt(const Context& ctx, const std::vector<int8_t>& coeffs, const std::vector<int>& prime_indices,
                  uint64_t* out) {
  const size_t n = ctx.poly_degree();
  if (coeffs.size() != n) throw std::invalid_argument("small_to_ntt: wrong length");
#pragma omp parallel for schedule(static)
  for (size_t l = 0; l < prime_indices.size(); ++l) {
    const uint64_t q = ctx.prime(prime_indices[l]);
    uint64_t* dst = out + l * n;
    for (size_t k = 0; k < n; ++k) dst[k] = coeffs[k] >= 0 ? static_cast<uint64_t>(coeffs[k]) : q - static_cast<uint64_t>(-coeffs[k]);
    ntt_forward(dst, ctx.ntt(prime_indices[l]));
  }
}

std::vector<int> prime_range(const Context& ctx, int level, bool with_special) {
  std::vector<int> indices;
  for (int i = 0; i <= level; ++i) indices.push_back(i);
  if (with_special) {
    for (int k = 0; k < ctx.special_prime_count(); ++k) indices.push_back(ctx.special_prime_index(k));
  }
  return indices;
}

}  // namespace cryptounet::ckks
