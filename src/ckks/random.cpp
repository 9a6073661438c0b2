#include "ckks/random.h"

#include <sodium.h>

#include <array>
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

SecretVector<int8_t> sample_ternary(size_t n) {
  ensure_sodium();
  SecretVector<int8_t> s(n);
  SecretVector<uint8_t> bytes(n);
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

namespace {

// Cumulative distribution table of the discrete Gaussian D_{Z,sigma} restricted to |x| <= kGaussianBound:
// cdt[i] = floor(2^64 * P(X <= i - kGaussianBound)) for i = 0 .. 2 * kGaussianBound - 1, computed in long double
// (64-bit mantissa), so every probability is exact to about 2^-63. The mass cut off beyond 6 sigma is 2^-30.
constexpr int kGaussianBound = 19;  // floor(6 * 3.2)
constexpr double kGaussianSigma = 3.2;

const std::array<uint64_t, 2 * kGaussianBound>& gaussian_cdt() {
  static const auto table = [] {
    std::array<long double, 2 * kGaussianBound + 1> rho{};
    long double total = 0;
    for (int x = -kGaussianBound; x <= kGaussianBound; ++x) {
      rho[x + kGaussianBound] = std::exp(-static_cast<long double>(x) * x / (2.0L * kGaussianSigma * kGaussianSigma));
      total += rho[x + kGaussianBound];
    }
    std::array<uint64_t, 2 * kGaussianBound> cdt{};
    long double cumulative = 0;
    for (int i = 0; i < 2 * kGaussianBound; ++i) {
      cumulative += rho[i] / total;
      cdt[i] = static_cast<uint64_t>(cumulative * 0x1p64L);
    }
    return cdt;
  }();
  return table;
}

}  // namespace

SecretVector<int8_t> sample_gaussian(size_t n) {
  ensure_sodium();
  const auto& cdt = gaussian_cdt();
  SecretVector<uint64_t> words(n);
  randombytes_buf(words.data(), n * sizeof(uint64_t));
  SecretVector<int8_t> e(n);
  for (size_t k = 0; k < n; ++k) {
    // Inversion of the CDT with a full scan and no data-dependent branch: the sample is -bound + #{i : u >= cdt[i]}.
    const uint64_t u = words[k];
    int x = -kGaussianBound;
    for (const uint64_t threshold : cdt) x += static_cast<int>(u >= threshold);
    e[k] = static_cast<int8_t>(x);
  }
  return e;
}

void small_to_ntt(const Context& ctx, std::span<const int8_t> coeffs, const std::vector<int>& prime_indices,
                  uint64_t* out) {
  const size_t n = ctx.poly_degree();
  if (coeffs.size() != n) throw std::invalid_argument("small_to_ntt: wrong length");
#pragma omp parallel for schedule(static)
  for (size_t l = 0; l < prime_indices.size(); ++l) {
    const uint64_t q = ctx.prime(prime_indices[l]);
    uint64_t* dst = out + l * n;
    for (size_t k = 0; k < n; ++k) {
      // c mod q = c + (q if c < 0): the sign mask (arithmetic shift) selects q, so no branch depends on c.
      const int64_t c = coeffs[k];
      dst[k] = static_cast<uint64_t>(c) + (q & static_cast<uint64_t>(c >> 63));
    }
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
