// A CKKS ciphertext (c0, c1) with m ~ c0 + c1*s: two RNS polynomials over q_0..q_level in NTT form, stored limb by
// limb ([poly][limb][coefficient]), with its exact scale (a double; equal scales are compared with a relative
// tolerance of 1e-9, see Evaluator).
//
// A freshly secret-key-encrypted ciphertext remembers the 32-byte seed its c1 was derived from, so it serializes
// at half size; any mutable access to the data forgets the seed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "ckks/buffer.h"

namespace cryptounet::ckks {

class Ciphertext {
 public:
  Ciphertext() = default;
  Ciphertext(size_t poly_degree, int level, double scale)
      : n_(poly_degree), level_(level), scale_(scale), data_(2 * (level + 1) * poly_degree, 0) {}
  // Coefficients left uninitialized: for producers that overwrite every limb.
  Ciphertext(size_t poly_degree, int level, double scale, NoInit)
      : n_(poly_degree), level_(level), scale_(scale), data_(2 * (level + 1) * poly_degree) {}

  int level() const { return level_; }
  double scale() const { return scale_; }
  // Declares the scale explicitly. Legitimate uses: after a multiplication by an integer that stands for a real
  // (c / 2^k), declaring scale * 2^k; never to paper over a mismatch.
  void set_scale(double scale) { scale_ = scale; }
  size_t poly_degree() const { return n_; }
  size_t limb_count() const { return static_cast<size_t>(level_) + 1; }

  const uint64_t* poly(int k) const { return data_.data() + k * limb_count() * n_; }
  const uint64_t* limb(int k, int i) const { return poly(k) + i * n_; }
  uint64_t* poly(int k) {
    seed_.reset();
    return data_.data() + k * limb_count() * n_;
  }
  uint64_t* limb(int k, int i) { return poly(k) + i * n_; }
  const LimbBuffer& data() const { return data_; }

  // Keeps only the limbs of q_0..level (exact: the message and the scale are unchanged).
  void drop_to_level(int level);

  const std::optional<std::array<uint8_t, 32>>& seed() const { return seed_; }
  void set_seed(const std::array<uint8_t, 32>& seed) { seed_ = seed; }
  size_t memory_bytes() const { return data_.size() * sizeof(uint64_t); }

 private:
  size_t n_ = 0;
  int level_ = -1;
  double scale_ = 1.0;
  LimbBuffer data_;
  std::optional<std::array<uint8_t, 32>> seed_;
};

}  // namespace cryptounet::ckks
