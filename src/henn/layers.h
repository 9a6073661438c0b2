// The layers without weights: average pooling, channel concatenation, elementwise sum and a per-channel affine map
// (no level spent; the
// linear layers, which do the work of a concat's skip alignment, are in linear_layers.h). Written once over a
// LayerBackend.
#pragma once

#include "henn/backend.h"
#include "henn/feature_map.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <utility>
#include <vector>

namespace cryptounet::henn {

// 2x2 average pooling at no level: x + rot(x, s) then + rot(., s*W): the stride-2s grid holds the 2x2 sums; the 1/4
// becomes a pending factor for the next linear layer (pending offsets are unchanged by averaging).
template <LayerBackend Backend>
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

// A per-channel affine map s[c] * x + t[c] (t empty: 0) at no level: it joins the pending factor and offset, which
// the next linear layer folds exactly into its integer weights and masked offset plane (so zero padding stays zero).
template <typename Value>
FeatureMap<Value> scale_shift(FeatureMap<Value> in, const std::vector<double>& s, const std::vector<double>& t) {
  if (s.size() != in.factor.size() || (!t.empty() && t.size() != s.size()))
    throw std::invalid_argument("scale_shift: coefficients do not match the channels");
  for (std::size_t c = 0; c < s.size(); ++c) {
    in.factor[c] *= s[c];
    in.offset[c] = in.offset[c] * s[c] + (t.empty() ? 0.0 : t[c]);
  }
  return in;
}

// Channel concatenation: no work, the next linear layer aligns levels and scales (ScaleAlignedMasks). Takes its
// inputs by value, so that a caller done with them moves them in.
template <typename Value>
FeatureMap<Value> concat(FeatureMap<Value> first, FeatureMap<Value> second) {
  if (first.stride != second.stride || first.lanes != second.lanes)
    throw std::invalid_argument("concat: inputs at different strides or lanes");
  FeatureMap<Value> out = std::move(first);
  out.channels.insert(out.channels.end(), std::make_move_iterator(second.channels.begin()),
                      std::make_move_iterator(second.channels.end()));
  out.factor.insert(out.factor.end(), second.factor.begin(), second.factor.end());
  out.offset.insert(out.offset.end(), second.offset.begin(), second.offset.end());
  return out;
}

// Elementwise sum: levels aligned by dropping; scales and pending factors must agree; pending offsets add.
template <LayerBackend Backend>
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
