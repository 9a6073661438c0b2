// Numeric choices of the encrypted layers (see docs/ENCODING.md, "Scales").
#pragma once

#include <cmath>

namespace cryptounet::henn {

// The scaling primes' default size, and where each kind of value sits below 2^scale_bits: the input at 2^-8 of the
// prime, linear outputs at 2^-6, maps to be squared at 2^-4 (their square, rescaled, lands near 2^(scale_bits - 8)).
inline constexpr int kDefaultScaleBits = 40;
inline constexpr int kDefaultWeightBits = 20;
inline constexpr int kInputScaleMarginBits = 8;
inline constexpr int kOutputScaleMarginBits = 6;
inline constexpr int kSquareInputScaleMarginBits = 4;

// A linear layer reading x at scale D_x, with q the prime its rescale drops, encodes its masks at
// D_m = D_out * q / (D_x * 2^weight_bits): the precision budget log2(D_m) + weight_bits = log2(D_out * q / D_x) is
// shared between mask encoding (error ~ sqrt(N) / D_m) and weight rounding (2^-weight_bits). Squared maps land at
// D_sq^2 / q ~ 2^32 with 40-bit primes, which leaves ~44 bits of budget (20 for the weights, 24 for the masks)
// while the CKKS noise (~2^10 / D) stays far below the model's tolerance.
struct LayerOptions {
  // Output scale of a linear layer without activation (ConvTranspose2d, the 1x1 head).
  double output_scale = std::ldexp(1.0, kDefaultScaleBits - kOutputScaleMarginBits);
  // Scale of a linear layer's output that is squared next (the completed square u, or y and a*y + b).
  double square_input_scale = std::ldexp(1.0, kDefaultScaleBits - kSquareInputScaleMarginBits);
  // Real weights become integers round(w * 2^weight_bits); the masks absorb the rest of the scale.
  int weight_bits = kDefaultWeightBits;
  // Fused quadratic activations use the completed square (one accumulator per output instead of two) when every
  // channel has |b / (2a)| <= this bound.
  double max_square_shift = 16.0;

  // The options for scaling primes of scale_bits bits.
  static LayerOptions for_scale_bits(int scale_bits, int weight_bits) {
    LayerOptions o;
    o.output_scale = std::ldexp(1.0, scale_bits - kOutputScaleMarginBits);
    o.square_input_scale = std::ldexp(1.0, scale_bits - kSquareInputScaleMarginBits);
    o.weight_bits = weight_bits;
    return o;
  }
};

}  // namespace cryptounet::henn
