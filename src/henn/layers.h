// The encrypted layers, written once against a backend (PlainBackend: exact slot vectors; CkksBackend:
// ciphertexts). A backend provides Value, Mask, Accumulator and the operations used below (see plain_backend.h).
#pragma once

#include "henn/feature_map.h"
#include "henn/layer_options.h"
#include "henn/layout.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cryptounet::henn {

// Where a linear layer reads: tap t rotates every input left by steps[t] and keeps the output slots of masks[t].
struct LinearTaps {
  int out_stride = 1;
  int out_lanes = 1;
  std::vector<int> steps;
  std::vector<std::vector<double>> masks;
};

// out[co] = bias[co] + sum_{ci,t} weight[(co*in + ci)*taps + t] * tap_t(in[ci]); optionally fused with the
// quadratic activation a[co]*out^2 + b[co]*out + c[co] (two accumulators from the same rotations, then one product;
// the constant c stays pending, FeatureMap::offset, for the next layer).
struct LinearWeights {
  int in_channels = 0;
  int out_channels = 0;
  int taps = 0;
  std::vector<double> weight;
  std::vector<double> bias;
  const std::vector<double>* quad_a = nullptr;
  const std::vector<double>* quad_b = nullptr;
  const std::vector<double>* quad_c = nullptr;  // null: no constant term

  double at(int co, int ci, int t) const {
    return weight[(static_cast<std::size_t>(co) * in_channels + ci) * taps + t];
  }
};

// Number of levels a linear layer consumes: 1, or 2 with the fused activation.
inline int linear_levels(const LinearWeights& w) { return w.quad_a ? 2 : 1; }

inline std::int64_t integer_weight(double w, double integer_scale) {
  const double c = std::round(w * integer_scale);
  if (std::abs(c) >= 0x1p31)
    throw std::runtime_error("encrypted layer: weight " + std::to_string(w) +
                             " overflows the integer encoding; lower weight_bits");
  return static_cast<std::int64_t>(c);
}

// How the fused activation a*y^2 + b*y is computed.
enum class ActivationMode {
  None,
  // Completed square: u = sqrt|a| * (y + b/(2a)) comes out of the convolution itself (weights and bias scaled),
  // then one squaring; a*y^2 + b*y = sign(a) * u^2 - b^2/(4a), the sign and the constant stay pending
  // (FeatureMap::factor/offset) for the next linear layer. One accumulator per output.
  CompletedSquare,
  // Two accumulators from the same rotations, y and a*y + b, then one product (for |b/(2a)| too large, where the
  // completed square would bury the signal under the constant b^2/(4a)).
  TwoAccumulators,
};

inline ActivationMode activation_mode(const LinearWeights& lw, const LayerOptions& opt) {
  if (!lw.quad_a) return ActivationMode::None;
  for (int c = 0; c < lw.out_channels; ++c) {
    const double a = (*lw.quad_a)[c], b = (*lw.quad_b)[c];
    if (a == 0.0 || std::abs(b / (2 * a)) > opt.max_square_shift) return ActivationMode::TwoAccumulators;
  }
  return ActivationMode::CompletedSquare;
}

// One level (two with the activation): hoisted rotations of each input, one mask product per tap, integer
// multiply-accumulate into one accumulator per output, one rescale per output. Inputs at different levels are
// dropped to the lowest one; inputs at different scales get masks encoded at compensating scales, so every term
// lands on the same scale P = D_out * q_l / 2^k and the output on exactly D_out (layer_options.h). Pending input
// factors fold into the integer weights; pending input offsets o become the plaintext sum_t (sum_ci w o_ci) M_t
// (masked, so zero padding stays exact at the borders).
// A linear layer's outputs before the activation's ciphertext product: y (u = sqrt|a| (y + b/2a) for the completed
// square) and, with two accumulators, z = a*y + b; all at the layer's output level and scale.
template <typename Value>
struct Preactivation {
  ActivationMode mode = ActivationMode::None;
  std::vector<Value> y, z;
  int stride = 1;
  int lanes = 1;
};

template <typename Backend>
Preactivation<typename Backend::Value> linear_preactivation(const Backend& be,
                                                            const FeatureMap<typename Backend::Value>& in,
                                                            const LinearTaps& taps, const LinearWeights& lw,
                                                            const LayerOptions& opt,
                                                            const std::vector<double>* clean_mask = nullptr) {
  using Value = typename Backend::Value;
  using Mask = typename Backend::Mask;
  if (in.channel_count() != lw.in_channels)
    throw std::invalid_argument("linear layer: " + std::to_string(in.channel_count()) + " input channels, weights for " +
                                std::to_string(lw.in_channels));
  if (static_cast<int>(taps.steps.size()) != lw.taps || taps.masks.size() != taps.steps.size())
    throw std::invalid_argument("linear layer: tap count mismatch");
  int level = Backend::level(in.channels.front());
  for (const Value& v : in.channels) level = std::min(level, Backend::level(v));
  if (level < linear_levels(lw))
    throw std::runtime_error("linear layer: needs " + std::to_string(linear_levels(lw)) + " levels, input has " +
                             std::to_string(level));
  const ActivationMode mode = activation_mode(lw, opt);
  const double int_scale = std::ldexp(1.0, opt.weight_bits);
  const double out_scale = mode == ActivationMode::None ? opt.output_scale : opt.square_input_scale;
  const double term_scale = out_scale * be.prime(level) / int_scale;

  // Per output: the multiplier of the first accumulator (sqrt|a| for the completed square) and of the second.
  std::vector<double> mult_y(lw.out_channels, 1.0), mult_z;
  if (mode == ActivationMode::CompletedSquare)
    for (int co = 0; co < lw.out_channels; ++co) mult_y[co] = std::sqrt(std::abs((*lw.quad_a)[co]));
  if (mode == ActivationMode::TwoAccumulators) mult_z = *lw.quad_a;

  std::map<double, std::vector<Mask>> masks_by_scale;  // one mask set per distinct input scale (concat branches)
  auto masks_for = [&](double input_scale) -> const std::vector<Mask>& {
    auto it = masks_by_scale.find(input_scale);
    if (it != masks_by_scale.end()) return it->second;
    const double mask_scale = term_scale / input_scale;
    if (mask_scale < 0x1p16)
      throw std::runtime_error("linear layer: input scale 2^" + std::to_string(std::log2(input_scale)) +
                               " leaves masks only 2^" + std::to_string(std::log2(mask_scale)) + " of precision");
    std::vector<Mask> ms;
    for (const auto& m : taps.masks) ms.push_back(be.encode(m, level, mask_scale));
    return masks_by_scale.emplace(input_scale, std::move(ms)).first->second;
  };

  using Acc = typename Backend::Accumulator;
  std::vector<Acc> acc_y, acc_z;
  for (int co = 0; co < lw.out_channels; ++co) {
    acc_y.push_back(be.accumulator(level, int_scale));
    if (!mult_z.empty()) acc_z.push_back(be.accumulator(level, int_scale));
  }
  for (int ci = 0; ci < lw.in_channels; ++ci) {
    Value x = Backend::level(in.channels[ci]) == level ? in.channels[ci] : be.drop_to_level(in.channels[ci], level);
    const std::vector<Mask>& ms = masks_for(Backend::scale(x));
    std::vector<Value> rotated = be.rotate_hoisted(x, taps.steps);
    const double f = in.factor[ci];
    for (int t = 0; t < lw.taps; ++t) {
      const Value term = be.mul_plain(rotated[t], ms[t]);
      for (int co = 0; co < lw.out_channels; ++co) {
        const double w = lw.at(co, ci, t) * f;
        if (w == 0.0) continue;
        acc_y[co].add(term, integer_weight(mult_y[co] * w, int_scale));
        if (!mult_z.empty()) acc_z[co].add(term, integer_weight(mult_z[co] * w, int_scale));
      }
    }
  }

  // Pending input offsets: offset_taps[co][t] = sum_ci w(co, ci, t) * offset_ci.
  bool has_offsets = false;
  for (double o : in.offset) has_offsets |= (o != 0.0);
  auto offset_values = [&](int co, double multiplier) {
    std::vector<double> v(taps.masks.front().size(), 0.0);
    for (int t = 0; t < lw.taps; ++t) {
      double g = 0;
      for (int ci = 0; ci < lw.in_channels; ++ci) g += lw.at(co, ci, t) * in.offset[ci];
      if (g == 0.0) continue;
      for (std::size_t k = 0; k < v.size(); ++k) v[k] += multiplier * g * taps.masks[t][k];
    }
    return v;
  };
  // Finishes one accumulator into multiplier * (conv + bias) + shift. With a clean mask, the constant is added only
  // where the mask is 1 (so slots outside the valid grid stay zero, as lanes interleaving needs).
  auto finish = [&](typename Backend::Accumulator& acc, int co, double multiplier, double shift) {
    Value y = be.rescale(be.finish(std::move(acc)));
    const double constant = multiplier * lw.bias[co] + shift;
    if (clean_mask) {
      std::vector<double> v(clean_mask->size());
      for (std::size_t k = 0; k < v.size(); ++k) v[k] = constant * (*clean_mask)[k];
      if (has_offsets) {
        const auto plane = offset_values(co, multiplier);
        for (std::size_t k = 0; k < v.size(); ++k) v[k] += plane[k];
      }
      be.add_plain_inplace(y, be.encode(v, Backend::level(y), Backend::scale(y)));
    } else {
      be.add_const_inplace(y, constant);
      if (has_offsets)
        be.add_plain_inplace(y, be.encode(offset_values(co, multiplier), Backend::level(y), Backend::scale(y)));
    }
    return y;
  };

  Preactivation<Value> pre;
  pre.mode = mode;
  pre.stride = taps.out_stride;
  pre.lanes = taps.out_lanes;
  for (int co = 0; co < lw.out_channels; ++co) {
    if (mode == ActivationMode::CompletedSquare) {
      const double a = (*lw.quad_a)[co], b = (*lw.quad_b)[co];
      pre.y.push_back(finish(acc_y[co], co, mult_y[co], mult_y[co] * b / (2 * a)));
    } else {
      pre.y.push_back(finish(acc_y[co], co, 1.0, 0.0));
      if (mode == ActivationMode::TwoAccumulators)
        pre.z.push_back(finish(acc_z[co], co, mult_z[co], (*lw.quad_b)[co]));
    }
  }
  return pre;
}

// The activation step of a fused layer (one ciphertext product and rescale per output), or nothing.
template <typename Backend>
FeatureMap<typename Backend::Value> activate(const Backend& be, Preactivation<typename Backend::Value>&& pre,
                                             const LinearWeights& lw) {
  using Value = typename Backend::Value;
  FeatureMap<Value> out;
  out.stride = pre.stride;
  out.lanes = pre.lanes;
  out.factor.assign(lw.out_channels, 1.0);
  out.offset.assign(lw.out_channels, 0.0);
  for (int co = 0; co < lw.out_channels; ++co) {
    if (pre.mode == ActivationMode::CompletedSquare) {
      const double a = (*lw.quad_a)[co], b = (*lw.quad_b)[co];
      out.channels.push_back(be.rescale(be.square_relin(pre.y[co])));
      out.factor[co] = a > 0 ? 1.0 : -1.0;
      out.offset[co] = -b * b / (4 * a) + (lw.quad_c ? (*lw.quad_c)[co] : 0.0);
    } else if (pre.mode == ActivationMode::TwoAccumulators) {
      out.channels.push_back(be.rescale(be.multiply_relin(pre.y[co], pre.z[co])));
      out.offset[co] = lw.quad_c ? (*lw.quad_c)[co] : 0.0;
    } else {
      out.channels.push_back(std::move(pre.y[co]));
    }
  }
  return out;
}

template <typename Backend>
FeatureMap<typename Backend::Value> linear_layer(const Backend& be, const FeatureMap<typename Backend::Value>& in,
                                                 const LinearTaps& taps, const LinearWeights& lw,
                                                 const LayerOptions& opt) {
  return activate(be, linear_preactivation(be, in, taps, lw, opt), lw);
}

// The first convolution at stride 2 merges up to 4 ciphertexts ("lanes", each its own map) into one interleaved map:
// each lane's pre-activations are computed with clean constants (zero off the stride grid), rotated right by the
// lane's offset into a free phase of the stride cell and summed, then activated once. Every later layer at stride
// >= 2 then works on 4 ciphertexts' tiles at the cost of one; no level is spent (rotations only).
template <typename Backend>
FeatureMap<typename Backend::Value> merge_lanes(const Backend& be,
                                                const std::vector<FeatureMap<typename Backend::Value>>& lanes,
                                                const LinearTaps& taps, const LinearWeights& lw,
                                                const LayerOptions& opt, const Layout& layout) {
  if (taps.out_stride < 2 || lanes.size() > static_cast<std::size_t>(Layout::kMaxLanes))
    throw std::invalid_argument("merge_lanes: needs stride >= 2 and at most 4 lanes");
  const std::vector<double> clean = layout.grid_mask(taps.out_stride);
  Preactivation<typename Backend::Value> merged;
  for (std::size_t j = 0; j < lanes.size(); ++j) {
    auto pre = linear_preactivation(be, lanes[j], taps, lw, opt, &clean);
    if (j == 0) {
      merged = std::move(pre);
      continue;
    }
    const int step = -layout.lane_offset(static_cast<int>(j));
    for (std::size_t co = 0; co < pre.y.size(); ++co) be.add_inplace(merged.y[co], be.rotate(pre.y[co], step));
    for (std::size_t co = 0; co < pre.z.size(); ++co) be.add_inplace(merged.z[co], be.rotate(pre.z[co], step));
  }
  merged.lanes = static_cast<int>(lanes.size());
  return activate(be, std::move(merged), lw);
}

// 2x2 average pooling at no level: x + rot(x, s) then + rot(., s*W): the stride-2s grid holds the 2x2 sums; the 1/4
// becomes a pending factor for the next linear layer (pending offsets are unchanged by averaging).
template <typename Backend>
FeatureMap<typename Backend::Value> avg_pool(const Backend& be, FeatureMap<typename Backend::Value> in, int width) {
  const int s = in.stride;
  for (auto& x : in.channels) {
    be.add_inplace(x, be.rotate(x, s));
    be.add_inplace(x, be.rotate(x, s * width));
  }
  for (double& f : in.factor) f *= 0.25;
  in.stride = 2 * s;
  return in;
}

// Channel concatenation: no work, the next linear layer aligns levels and scales.
template <typename Value>
FeatureMap<Value> concat(const FeatureMap<Value>& first, const FeatureMap<Value>& second) {
  if (first.stride != second.stride || first.lanes != second.lanes)
    throw std::invalid_argument("concat: inputs at different strides or lanes");
  FeatureMap<Value> out = first;
  out.channels.insert(out.channels.end(), second.channels.begin(), second.channels.end());
  out.factor.insert(out.factor.end(), second.factor.begin(), second.factor.end());
  out.offset.insert(out.offset.end(), second.offset.begin(), second.offset.end());
  return out;
}

// Elementwise sum: levels aligned by dropping; scales and pending factors must agree; pending offsets add.
template <typename Backend>
FeatureMap<typename Backend::Value> add(const Backend& be, const FeatureMap<typename Backend::Value>& a,
                                        const FeatureMap<typename Backend::Value>& b) {
  if (a.stride != b.stride || a.lanes != b.lanes || a.channel_count() != b.channel_count())
    throw std::invalid_argument("add: inputs differ in stride or channels");
  FeatureMap<typename Backend::Value> out = a;
  for (int c = 0; c < a.channel_count(); ++c) {
    if (a.factor[c] != b.factor[c]) throw std::runtime_error("add: inputs carry different pending factors");
    out.offset[c] = a.offset[c] + b.offset[c];
    const int level = std::min(Backend::level(a.channels[c]), Backend::level(b.channels[c]));
    out.channels[c] = be.drop_to_level(a.channels[c], level);
    be.add_inplace(out.channels[c], be.drop_to_level(b.channels[c], level));
  }
  return out;
}

}  // namespace cryptounet::henn
