// An encoded message: one RNS polynomial over q_0..q_level, stored in NTT form, with its exact scale.
#pragma once

#include <cstdint>
#include <vector>

#include "ckks/buffer.h"

namespace cryptounet::ckks {

class Plaintext {
 public:
  Plaintext() = default;
  Plaintext(size_t poly_degree, int level, double scale)
      : n_(poly_degree), level_(level), scale_(scale), data_((level + 1) * poly_degree, 0) {}
  // Coefficients left uninitialized: for producers that overwrite every limb.
  Plaintext(size_t poly_degree, int level, double scale, NoInit)
      : n_(poly_degree), level_(level), scale_(scale), data_((level + 1) * poly_degree) {}

  int level() const { return level_; }
  double scale() const { return scale_; }
  // Declares the scale explicitly (e.g. after a caller-side change of interpretation); the data is not touched.
  void set_scale(double scale) { scale_ = scale; }
  size_t poly_degree() const { return n_; }
  size_t limb_count() const { return static_cast<size_t>(level_) + 1; }
  uint64_t* limb(int i) { return data_.data() + i * n_; }
  const uint64_t* limb(int i) const { return data_.data() + i * n_; }
  LimbBuffer& data() { return data_; }
  const LimbBuffer& data() const { return data_; }
  size_t memory_bytes() const { return data_.size() * sizeof(uint64_t); }

 private:
  size_t n_ = 0;
  int level_ = -1;
  double scale_ = 1.0;
  LimbBuffer data_;
};

}  // namespace cryptounet::ckks
