#include "ckks/encoder.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cryptounet::ckks {

namespace {

void bit_reverse_permute(std::vector<std::complex<double>>& v) {
  const size_t n = v.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(v[i], v[j]);
  }
}

// Plain complex product: std::complex's operator* handles inf/NaN through a library call (__muldc3), which
// dominates an FFT; our operands are always finite.
inline std::complex<double> mul(std::complex<double> a, std::complex<double> b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

// Evaluates the "folded" polynomial at zeta^(5^j): v[j] <- sum_k v_k zeta^(k 5^j) in the special FFT order.
void special_fft(std::vector<std::complex<double>>& v, const Context& ctx) {
  const size_t size = v.size(), m = 2 * ctx.poly_degree();
  const auto& rot = ctx.rotation_group();
  const auto& roots = ctx.roots_2n();
  bit_reverse_permute(v);
  for (size_t len = 2; len <= size; len <<= 1) {
    const size_t half = len >> 1, lenq = len << 2;
    for (size_t i = 0; i < size; i += len) {
      for (size_t j = 0; j < half; ++j) {
        const size_t idx = (rot[j] % lenq) * (m / lenq);
        const std::complex<double> u = v[i + j], w = mul(v[i + j + half], roots[idx]);
        v[i + j] = u + w;
        v[i + j + half] = u - w;
      }
    }
  }
}

void special_ifft(std::vector<std::complex<double>>& v, const Context& ctx) {
  const size_t size = v.size(), m = 2 * ctx.poly_degree();
  const auto& rot = ctx.rotation_group();
  const auto& roots = ctx.roots_2n();
  for (size_t len = size; len >= 2; len >>= 1) {
    const size_t half = len >> 1, lenq = len << 2;
    for (size_t i = 0; i < size; i += len) {
      for (size_t j = 0; j < half; ++j) {
        const size_t idx = (lenq - rot[j] % lenq) * (m / lenq);
        const std::complex<double> u = v[i + j] + v[i + j + half];
        const std::complex<double> w = mul(v[i + j] - v[i + j + half], roots[idx]);
        v[i + j] = u;
        v[i + j + half] = w;
      }
    }
  }
  bit_reverse_permute(v);
  const double inv = 1.0 / static_cast<double>(size);
  for (auto& x : v) x *= inv;
}

}  // namespace

Encoder::Encoder(ContextPtr ctx) : ctx_(std::move(ctx)) {}

Plaintext Encoder::encode_coefficients(const std::vector<double>& coeffs, int level, double scale) const {
  if (level < 0 || level > ctx_->max_level())
    throw std::invalid_argument("Encoder: level " + std::to_string(level) + " outside [0, " +
                                std::to_string(ctx_->max_level()) + "]");
  if (!(scale > 0) || !std::isfinite(scale)) throw std::invalid_argument("Encoder: scale must be positive and finite");
  const size_t n = ctx_->poly_degree();
  Plaintext pt(n, level, scale, NoInit{});
  // Coefficients below 2^63 (the usual case) take a 64-bit path; larger ones (big scales) a 128-bit one.
  std::vector<int64_t> small(n);
  std::vector<i128> large;
  for (size_t k = 0; k < n; ++k) {
    const double v = std::round(coeffs[k] * scale);
    if (!(std::fabs(v) < 0x1.0p126)) throw std::invalid_argument("Encoder: value * scale too large (>= 2^126) or NaN");
    if (std::fabs(v) >= 0x1.0p62 && large.empty()) {
      large.resize(n);
      for (size_t j = 0; j < k; ++j) large[j] = small[j];
    }
    if (large.empty())
      small[k] = static_cast<int64_t>(v);
    else
      large[k] = static_cast<i128>(v);
  }
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level; ++i) {
    const Modulus& mod = ctx_->modulus(i);
    uint64_t* dst = pt.limb(i);
    if (large.empty()) {
      for (size_t k = 0; k < n; ++k) {
        const int64_t v = small[k];
        dst[k] = v >= 0 ? mod.reduce(static_cast<uint64_t>(v)) : neg_mod(mod.reduce(static_cast<uint64_t>(-v)), mod.value);
      }
    } else {
      for (size_t k = 0; k < n; ++k) dst[k] = mod.reduce_signed(large[k]);
    }
    ntt_forward(dst, ctx_->ntt(i));
  }
  return pt;
}

Plaintext Encoder::encode(std::span<const std::complex<double>> values, int level, double scale) const {
  const size_t slots = slot_count(), n = ctx_->poly_degree();
  if (values.size() > slots)
    throw std::invalid_argument("Encoder: " + std::to_string(values.size()) + " values exceed the " +
                                std::to_string(slots) + " slots");
  std::vector<std::complex<double>> v(slots, 0.0);
  std::copy(values.begin(), values.end(), v.begin());
  special_ifft(v, *ctx_);
  std::vector<double> coeffs(n);
  for (size_t j = 0; j < slots; ++j) {
    coeffs[j] = v[j].real();
    coeffs[j + slots] = v[j].imag();
  }
  return encode_coefficients(coeffs, level, scale);
}

Plaintext Encoder::encode(std::span<const double> values, int level, double scale) const {
  if (values.size() > slot_count())
    throw std::invalid_argument("Encoder: " + std::to_string(values.size()) + " values exceed the " +
                                std::to_string(slot_count()) + " slots");
  std::vector<std::complex<double>> v(values.begin(), values.end());
  return encode(std::span<const std::complex<double>>(v), level, scale);
}

Plaintext Encoder::encode_constant(double value, int level, double scale) const {
  std::vector<double> coeffs(ctx_->poly_degree(), 0.0);
  coeffs[0] = value;
  return encode_coefficients(coeffs, level, scale);
}

std::vector<std::complex<double>> Encoder::decode_complex(const Plaintext& pt) const {
  const size_t n = ctx_->poly_degree(), slots = slot_count();
  if (pt.poly_degree() != n || pt.level() < 0 || pt.level() > ctx_->max_level())
    throw std::invalid_argument("Encoder::decode: plaintext does not match the context");
  LimbBuffer coeff_form(pt.data());
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= pt.level(); ++i) ntt_inverse(coeff_form.data() + i * n, ctx_->ntt(i));
  std::vector<double> coeffs(n);
  ctx_->crt_compose(coeff_form.data(), pt.level(), pt.scale(), coeffs.data());
  std::vector<std::complex<double>> v(slots);
  for (size_t j = 0; j < slots; ++j) v[j] = {coeffs[j], coeffs[j + slots]};
  special_fft(v, *ctx_);
  return v;
}

std::vector<double> Encoder::decode(const Plaintext& pt) const {
  const auto v = decode_complex(pt);
  std::vector<double> out(v.size());
  for (size_t j = 0; j < v.size(); ++j) out[j] = v[j].real();
  return out;
}

}  // namespace cryptounet::ckks
