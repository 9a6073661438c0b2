// CKKS encoding through the canonical embedding: slot j holds m(zeta^(5^j)), zeta = exp(i*pi/N), for the N/2 slots
// (the "special FFT" over the rotation group <5>, Cheon–Kim–Kim–Song 2017 / HEAAN). Real and complex slots.
#pragma once

#include <complex>
#include <span>
#include <vector>

#include "ckks/context.h"
#include "ckks/plaintext.h"

namespace cryptounet::ckks {

class Encoder {
 public:
  explicit Encoder(ContextPtr ctx);

  size_t slot_count() const { return ctx_->slot_count(); }

  // Encodes into NTT form over q_0..level at exactly `scale` (Plaintext::scale() == scale). Inputs shorter than
  // slot_count() are zero-padded; longer inputs are an error. Coefficients round(scale * value) must stay below
  // 2^126 in magnitude.
  Plaintext encode(std::span<const double> values, int level, double scale) const;
  Plaintext encode(std::span<const std::complex<double>> values, int level, double scale) const;
  // All slots equal to `value` (a constant polynomial, no FFT).
  Plaintext encode_constant(double value, int level, double scale) const;

  std::vector<std::complex<double>> decode_complex(const Plaintext& pt) const;
  std::vector<double> decode(const Plaintext& pt) const;  // real parts

 private:
  Plaintext encode_coefficients(const std::vector<double>& coeffs, int level, double scale) const;
  ContextPtr ctx_;
};

}  // namespace cryptounet::ckks
