// Numeric choices of the encrypted layers (see docs/ENCODING.md, "Scales").
#pragma once

namespace cryptounet::henn {

struct LayerOptions {
  // Every linear layer's output (after its rescale) lands exactly on this scale.
  double output_scale = 0x1p40;
  // Real weights become integers round(w * 2^weight_bits); the masks absorb the rest of the scale.
  int weight_bits = 16;
  // Fused quadratic activations use the completed square (one accumulator per output instead of two) when every
  // channel has |b / (2a)| <= this bound.
  double max_square_shift = 16.0;
};

}  // namespace cryptounet::henn
