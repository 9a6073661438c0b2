// A small, fully specified PRNG so that generated data is identical on every platform and standard library
// (std::*_distribution output is implementation-defined): splitmix64 for seeding, xoshiro256** for the stream.
#pragma once

#include <cstdint>

namespace cryptounet::io {

// splitmix64 (Steele, Lea, Flood 2014): one step of the seed sequence.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// xoshiro256** 1.0 (Blackman, Vigna 2018).
class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi] (the modulo bias is below 2^-40 for the small ranges used here).
  int integer(int lo, int hi) {
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  // Standard normal, approximated by the Irwin-Hall sum of 12 uniforms minus 6 (no libm calls, so bit-exact
  // everywhere; tails are cut at +-6 sigma, harmless for image noise).
  double normal() {
    double sum = 0;
    for (int k = 0; k < 12; ++k) sum += uniform();
    return sum - 6.0;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace cryptounet::io
