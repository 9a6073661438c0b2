// Per-channel polynomials of degree <= 2 in one layer output y: p(y)[c] = c2[c] y^2 + c1[c] y + c0[c]. The ONNX
// loader evaluates chains of element-wise Mul/Add/Sub/Div/Pow/BatchNormalization on y symbolically in this form, so
// a quadratic activation loads whatever order the exporter wrote its terms in. Internal to the ONNX loader.
#pragma once

#include <optional>
#include <vector>

namespace cryptounet::nn::onnx_import {

struct Polynomial {
  int source = 0;  // model node index of y
  std::vector<double> c0, c1, c2;

  static Polynomial identity(int source, int channels) {
    return {source, std::vector<double>(channels, 0.0), std::vector<double>(channels, 1.0),
            std::vector<double>(channels, 0.0)};
  }
  int channels() const { return static_cast<int>(c1.size()); }
  bool is_identity() const {
    for (int c = 0; c < channels(); ++c)
      if (c0[c] != 0.0 || c1[c] != 1.0 || c2[c] != 0.0) return false;
    return true;
  }
  bool is_affine() const {
    for (double v : c2)
      if (v != 0.0) return false;
    return true;
  }

  // p * s + t per channel.
  Polynomial affine(const std::vector<double>& s, const std::vector<double>& t) const {
    Polynomial out = *this;
    for (int c = 0; c < channels(); ++c) {
      out.c0[c] = c0[c] * s[c] + t[c];
      out.c1[c] = c1[c] * s[c];
      out.c2[c] = c2[c] * s[c];
    }
    return out;
  }
  Polynomial plus(const Polynomial& q, double sign = 1.0) const {
    Polynomial out = *this;
    for (int c = 0; c < channels(); ++c) {
      out.c0[c] += sign * q.c0[c];
      out.c1[c] += sign * q.c1[c];
      out.c2[c] += sign * q.c2[c];
    }
    return out;
  }
  // The product, if its degree stays <= 2.
  std::optional<Polynomial> times(const Polynomial& q) const {
    Polynomial out = *this;
    for (int c = 0; c < channels(); ++c) {
      const bool cubic = (c2[c] != 0.0 && q.c1[c] != 0.0) || (c1[c] != 0.0 && q.c2[c] != 0.0);
      if (cubic || (c2[c] != 0.0 && q.c2[c] != 0.0)) return std::nullopt;
      out.c0[c] = c0[c] * q.c0[c];
      out.c1[c] = c0[c] * q.c1[c] + c1[c] * q.c0[c];
      out.c2[c] = c0[c] * q.c2[c] + c1[c] * q.c1[c] + c2[c] * q.c0[c];
    }
    return out;
  }
};

}  // namespace cryptounet::nn::onnx_import
