// The encrypted layers, written once against a backend (PlainBackend: exact slot vectors; CkksBackend:
// ciphertexts). A backend provides Value, Mask, Accumulator and the operations used below (see plain_backend.h).
#pragma once

#include "henn/feature_map.h"
#include "henn/layer_options.h"

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
  std::vector<int> steps;
  std::vector<std::vector<double>> masks;
};

// out[co] = bias[co] + sum_{ci,t} weight[(co*in + ci)*taps + t] * tap_t(in[ci]); optionally fused with the
// quadratic activation a[co]*out^2 + b[co]*out (two accumulators from the same rotations, then one product).
struct LinearWeights {
  int in_channels = 0;
  int out_channels = 0;
  int taps = 0;
  std::vector<double> weight;
  std::vector<double> bias;
  const std::vector<double>* quad_a = nullptr;
  const std::vector<double>* quad_b = nullptr;

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

// One level (two with the activation): hoisted rotations of each input, one mask product per tap, integer
// multiply-accumulate into one accumulator per output, one rescale per output. Inputs at different levels are
// dropped to the lowest one; inputs at different scales get masks encoded at compensating scales, so every term
// lands on the same scale P = output_scale * q_l / 2^k and the output on exactly output_scale.
template <typename Backend>
FeatureMap<typename Backend::Value> linear_layer(const Backend& be, const FeatureMap<typename Backend::Value>& in,
                                                 const LinearTaps& taps, const LinearWeights& lw,
                                                 const LayerOptions& opt) {
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
  const double int_scale = std::ldexp(1.0, opt.weight_bits);
  const double term_scale = opt.output_scale * be.prime(level) / int_scale;

  std::map<double, std::vector<Mask>> masks_by_scale;  // one mask set per distinct input scale (concat branches)
  auto masks_for = [&](double input_scale) -> const std::vector<Mask>& {
    auto it = masks_by_scale.find(input_scale);
    if (it != masks_by_scale.end()) return it->second;
    std::vector<Mask> ms;
    for (const auto& m : taps.masks) ms.push_back(be.encode(m, level, term_scale / input_scale));
    return masks_by_scale.emplace(input_scale, std::move(ms)).first->second;
  };

  using Acc = typename Backend::Accumulator;
  std::vector<Acc> acc_y, acc_z;
  for (int co = 0; co < lw.out_channels; ++co) {
    acc_y.push_back(be.accumulator(level, int_scale));
    if (lw.quad_a) acc_z.push_back(be.accumulator(level, int_scale));
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
        acc_y[co].add(term, integer_weight(w, int_scale));
        if (lw.quad_a) acc_z[co].add(term, integer_weight((*lw.quad_a)[co] * w, int_scale));
      }
    }
  }

  FeatureMap<Value> out;
  out.stride = taps.out_stride;
  out.factor.assign(lw.out_channels, 1.0);
  for (int co = 0; co < lw.out_channels; ++co) {
    Value y = be.rescale(be.finish(std::move(acc_y[co])));
    be.add_const_inplace(y, lw.bias[co]);
    if (lw.quad_a) {
      // a*y^2 + b*y = y * (a*y + b): a*y comes from the second accumulator, a*bias + b is a constant.
      const double a = (*lw.quad_a)[co], b = (*lw.quad_b)[co];
      Value z = be.rescale(be.finish(std::move(acc_z[co])));
      be.add_const_inplace(z, a * lw.bias[co] + b);
      y = be.rescale(be.multiply_relin(y, z));
    }
    out.channels.push_back(std::move(y));
  }
  return out;
}

// 2x2 average pooling at no level: x + rot(x, s) then + rot(., s*W): the stride-2s grid holds the 2x2 sums; the 1/4
// becomes a pending factor for the next linear layer.
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
  if (first.stride != second.stride) throw std::invalid_argument("concat: inputs at different strides");
  FeatureMap<Value> out = first;
  out.channels.insert(out.channels.end(), second.channels.begin(), second.channels.end());
  out.factor.insert(out.factor.end(), second.factor.begin(), second.factor.end());
  return out;
}

// Elementwise sum: levels aligned by dropping; scales and pending factors must agree.
template <typename Backend>
FeatureMap<typename Backend::Value> add(const Backend& be, const FeatureMap<typename Backend::Value>& a,
                                        const FeatureMap<typename Backend::Value>& b) {
  if (a.stride != b.stride || a.channel_count() != b.channel_count())
    throw std::invalid_argument("add: inputs differ in stride or channels");
  FeatureMap<typename Backend::Value> out = a;
  for (int c = 0; c < a.channel_count(); ++c) {
    if (a.factor[c] != b.factor[c]) throw std::runtime_error("add: inputs carry different pending factors");
    const int level = std::min(Backend::level(a.channels[c]), Backend::level(b.channels[c]));
    out.channels[c] = be.drop_to_level(a.channels[c], level);
    be.add_inplace(out.channels[c], be.drop_to_level(b.channels[c], level));
  }
  return out;
}

}  // namespace cryptounet::henn
