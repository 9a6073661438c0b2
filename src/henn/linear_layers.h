// The linear layers of the encrypted U-Net, in one place: the 3x3 (and 1x1) convolution, the k2 s2 strided
// convolution (learned downsampling), the k2 s2 transposed convolution, the alignment of a concatenated skip branch
// (levels and scales), the fused quadratic activation and the lane rule (when up to 4 ciphertexts are interleaved into
// one map and split again). Written once over a LayerBackend; the taps, masks and weights are built in
// linear_layers.cpp from the model node and the Layout's grid.
//
// One linear layer costs one level (two with the activation) and rotates whichever side is cheaper
// (rotation_side): either each input once per tap (hoisted), masked and multiply-accumulated with integer weights into
// every output, or, per output and tap, the integer-weighted sum of the inputs, masked, then all taps of the output
// rotated and summed with one ModDown (double hoisting). One rescale per output. Every term lands on the same scale
// P = D_out * q_l / 2^k, so the output is at exactly D_out (layer_options.h). Pending input factors fold into the
// integer weights; pending input offsets o become the plaintext sum_t (sum_ci w o_ci) M_t (masked, so zero padding
// stays exact at the borders).
#pragma once

#include "henn/backend.h"
#include "henn/feature_map.h"
#include "henn/layer_options.h"
#include "henn/layout.h"
#include "nn/model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
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
// quadratic activation a[co]*out^2 + b[co]*out + c[co] (the constant c stays pending, FeatureMap::offset, for the
// next layer).
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

// 3x3 same-padding tap (dy, dx) in {-1,0,1}^2 at stride s: 1 at the valid output positions whose source pixel
// (i+dy, j+dx) of the stride-s grid lies inside the tile (zero padding = mask 0).
std::vector<double> conv_tap_mask(const Layout& layout, int stride, int dy, int dx, int lanes = 1);
// Transposed conv k2 s2 from stride s to s/2, output phase (a, b): 1 at the stride-s/2 positions
// (s*i + a*s/2, s*j + b*s/2).
std::vector<double> phase_mask(const Layout& layout, int stride, int a, int b, int lanes = 1);

// Whether the node is one of the linear layers below (Conv2d, StridedConv2x2, ConvTranspose2d).
bool is_linear(nn::Op op);
// The stride of a linear layer's output read from a map at `in_stride`: the same for a convolution, twice it for the
// strided convolution, half of it for the transposed convolution.
int output_stride(nn::Op op, int in_stride);

// The weights of a linear node, with the quadratic node it computes, if any.
LinearWeights linear_weights(const nn::Node& node, const nn::Node* fused_activation);
// The taps of a linear node reading a map at `in_stride` with `lanes` interleaved lanes (the output keeps them).
LinearTaps linear_taps(const nn::Node& node, const Layout& layout, int in_stride, int lanes = 1);
// A ConvTranspose2d from an interleaved stride-2 map to lane `lane`'s own stride-1 map: output phase (a, b) reads
// the input lane_offset(lane) - (a*W + b) slots further.
LinearTaps split_taps(const nn::Node& node, const Layout& layout, int lane);

// The lane rule. Up to Layout::kMaxLanes input ciphertexts go through the network together: at stride 1 each has its
// own maps; the first convolution (plain or strided) whose output is at stride >= 2 interleaves them into one map
// (merge_lanes), and the transposed convolution back from stride 2 to 1 splits them again (split_taps).
enum class LaneStep { Keep, Merge, Split };
LaneStep lane_step(nn::Op op, int in_stride, bool interleaved);
// Every rotation step a merge or a split needs (Galois keys), besides the layer's own taps.
std::vector<int> lane_rotation_steps(LaneStep step, const nn::Node& node, const Layout& layout);

// The masks applied before the rotation instead of after: rotate(v * source_t, steps[t]) = rotate(v, steps[t]) * M_t.
std::vector<std::vector<double>> source_masks(const LinearTaps& taps);

// Number of levels a linear layer consumes: 1, or 2 with the fused activation.
inline int linear_levels(const LinearWeights& w) { return w.quad_a ? 2 : 1; }

// round(w * integer_scale) as an integer weight; throws when it overflows the 31-bit lazy accumulation.
std::int64_t integer_weight(double w, double integer_scale);

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
ActivationMode activation_mode(const LinearWeights& lw, const LayerOptions& opt);
inline int accumulators_per_output(ActivationMode mode) { return mode == ActivationMode::TwoAccumulators ? 2 : 1; }

// Which ciphertexts a linear layer rotates (the same arithmetic either way, only the key switches differ).
enum class RotationSide {
  // Every input once per tap, hoisted (one ModUp per input, one ModDown per rotation), shared by all outputs.
  Input,
  // Per output (and accumulator) and tap, the weighted sum over the inputs (no rotation), masked by the tap's source
  // mask; the taps of one output are rotated and summed in one go (one ModUp per rotation, one ModDown per output).
  Output,
};
// The side with less key-switching work, counted in ModUps: a ModDown brings two polynomials back where a ModUp
// extends one, so it counts 2. With R rotated taps: input side C_in (1 + 2R), output side A C_out (R + 2) for A
// accumulators per output. Ties go to the input side.
RotationSide rotation_side(const LinearTaps& taps, const LinearWeights& lw, ActivationMode mode);

// Per output channel, what each accumulator's weights are multiplied by: y by sqrt|a| for the completed square (else
// 1), z by a with two accumulators (empty otherwise).
struct AccumulatorMultipliers {
  std::vector<double> y, z;
};
AccumulatorMultipliers accumulator_multipliers(ActivationMode mode, const LinearWeights& lw);

// The plaintext carrying pending input offsets into output co: multiplier * sum_t (sum_ci w(co, ci, t) o_ci) M_t.
std::vector<double> offset_plane(const LinearTaps& taps, const LinearWeights& lw, const std::vector<double>& offsets,
                                 int co, double multiplier);

// A linear layer's outputs before the activation's ciphertext product: y (u = sqrt|a| (y + b/2a) for the completed
// square) and, with two accumulators, z = a*y + b; all at the layer's output level and scale.
template <typename Value>
struct Preactivation {
  ActivationMode mode = ActivationMode::None;
  std::vector<Value> y, z;
  int stride = 1;
  int lanes = 1;
};

// The lowest level among the input channels (a concatenated skip branch arrives at a higher level than the upsampled
// path); checks the channel and tap counts and that the layer's levels are left.
template <LayerBackend Backend>
int linear_input_level(const FeatureMap<typename Backend::Value>& in, const LinearTaps& taps,
                       const LinearWeights& lw) {
  if (in.channel_count() != lw.in_channels)
    throw std::invalid_argument("linear layer: " + std::to_string(in.channel_count()) + " input channels, weights for " +
                                std::to_string(lw.in_channels));
  if (static_cast<int>(taps.steps.size()) != lw.taps || taps.masks.size() != taps.steps.size())
    throw std::invalid_argument("linear layer: tap count mismatch");
  int level = Backend::level(in.channels.front());
  for (const auto& v : in.channels) level = std::min(level, Backend::level(v));
  if (level < linear_levels(lw))
    throw std::runtime_error("linear layer: needs " + std::to_string(linear_levels(lw)) + " levels, input has " +
                             std::to_string(level));
  return level;
}

// The skip alignment: the tap masks (or source masks) encoded once per distinct input scale, at mask scale
// term_scale / input scale, so that inputs at different scales (the two branches of a concat) all give terms at
// term_scale.
template <LayerBackend Backend>
class ScaleAlignedMasks {
 public:
  using Mask = typename Backend::Mask;
  ScaleAlignedMasks(const Backend& be, std::vector<std::vector<double>> masks, int level, double term_scale)
      : be_(be), masks_(std::move(masks)), level_(level), term_scale_(term_scale) {}

  const std::vector<Mask>& for_input_scale(double input_scale) {
    auto it = by_scale_.find(input_scale);
    if (it != by_scale_.end()) return it->second;
    const double mask_scale = term_scale_ / input_scale;
    if (mask_scale < 0x1p16)
      throw std::runtime_error("linear layer: input scale 2^" + std::to_string(std::log2(input_scale)) +
                               " leaves masks only 2^" + std::to_string(std::log2(mask_scale)) + " of precision");
    std::vector<Mask> masks;
    for (const auto& m : masks_) masks.push_back(be_.encode(m, level_, mask_scale));
    return by_scale_.emplace(input_scale, std::move(masks)).first->second;
  }

 private:
  const Backend& be_;
  std::vector<std::vector<double>> masks_;
  int level_;
  double term_scale_;
  std::map<double, std::vector<Mask>> by_scale_;
};

// The integer weight of a term, 0 where the real weight is 0 (no work in the accumulators).
inline std::int64_t weight_coefficient(double w, double multiplier, double int_scale) {
  return w == 0.0 ? 0 : integer_weight(multiplier * w, int_scale);
}

// RotationSide::Input: every input channel (dropped to `level`) is rotated once per tap (hoisted) and masked; its
// tap terms are added with integer weights w * factor_ci * multiplier into all outputs' accumulators in one pass.
template <LayerBackend Backend>
void accumulate_taps(const Backend& be, const FeatureMap<typename Backend::Value>& in, const LinearTaps& taps,
                     const LinearWeights& lw, int level, ScaleAlignedMasks<Backend>& masks,
                     const AccumulatorMultipliers& mult, double int_scale,
                     std::vector<typename Backend::Accumulator>& acc_y,
                     std::vector<typename Backend::Accumulator>& acc_z) {
  using Value = typename Backend::Value;
  std::vector<typename Backend::Accumulator*> rows_y, rows_z;
  for (auto& a : acc_y) rows_y.push_back(&a);
  for (auto& a : acc_z) rows_z.push_back(&a);
  std::vector<std::int64_t> coefficients_y(static_cast<std::size_t>(lw.out_channels) * lw.taps);
  std::vector<std::int64_t> coefficients_z(mult.z.empty() ? 0 : coefficients_y.size());
  for (int ci = 0; ci < lw.in_channels; ++ci) {
    Value x = Backend::level(in.channels[ci]) == level ? in.channels[ci] : be.drop_to_level(in.channels[ci], level);
    const auto& ms = masks.for_input_scale(Backend::scale(x));
    std::vector<Value> terms = be.rotate_hoisted(x, taps.steps);
    std::vector<const Value*> term_pointers;
    for (int t = 0; t < lw.taps; ++t) {
      terms[t] = be.mul_plain(terms[t], ms[t]);
      term_pointers.push_back(&terms[t]);
    }
    for (int co = 0; co < lw.out_channels; ++co) {
      for (int t = 0; t < lw.taps; ++t) {
        const double w = lw.at(co, ci, t) * in.factor[ci];
        coefficients_y[co * lw.taps + t] = weight_coefficient(w, mult.y[co], int_scale);
        if (!mult.z.empty()) coefficients_z[co * lw.taps + t] = weight_coefficient(w, mult.z[co], int_scale);
      }
    }
    be.accumulate(rows_y, term_pointers, coefficients_y);
    if (!mult.z.empty()) be.accumulate(rows_z, term_pointers, coefficients_z);
  }
}

// RotationSide::Output: for output co (weights times `multiplier`), tap t's term is the integer-weighted sum of the
// inputs times the source mask of t, one sum per distinct input scale (the masks align the scales, so the parts add);
// the sums of all taps are accumulated in one pass over the inputs, and the terms of all taps are rotated and summed
// at once. Returns one sum per output, at `level`, before the rescale.
template <LayerBackend Backend>
std::vector<typename Backend::Value> rotate_outputs(const Backend& be, const FeatureMap<typename Backend::Value>& in,
                                                    const LinearTaps& taps, const LinearWeights& lw, int level,
                                                    ScaleAlignedMasks<Backend>& source_masks,
                                                    const std::vector<double>& multiplier, double int_scale) {
  using Value = typename Backend::Value;
  struct ScaleGroup {
    std::vector<int> channels;
    std::vector<const Value*> inputs;  // &in.channels[c] for c in channels
  };
  std::map<double, ScaleGroup> by_scale;
  for (int ci = 0; ci < lw.in_channels; ++ci) {
    ScaleGroup& group = by_scale[Backend::scale(in.channels[ci])];
    group.channels.push_back(ci);
    group.inputs.push_back(&in.channels[ci]);
  }
  std::vector<Value> sums;
  for (int co = 0; co < lw.out_channels; ++co) {
    std::vector<std::optional<Value>> tap_terms(lw.taps);
    for (const auto& [scale, group] : by_scale) {
      const std::vector<int>& channels = group.channels;
      const std::size_t count = channels.size();
      std::vector<std::int64_t> coefficients(lw.taps * count);
      std::vector<bool> weighted(lw.taps, false);
      for (int t = 0; t < lw.taps; ++t) {
        for (std::size_t k = 0; k < count; ++k) {
          const double w = lw.at(co, channels[k], t) * in.factor[channels[k]];
          coefficients[t * count + k] = weight_coefficient(w, multiplier[co], int_scale);
          if (coefficients[t * count + k] != 0) weighted[t] = true;
        }
      }
      std::vector<typename Backend::Accumulator> accs;
      std::vector<typename Backend::Accumulator*> rows;
      for (int t = 0; t < lw.taps; ++t) accs.push_back(be.accumulator(level, int_scale));
      for (auto& a : accs) rows.push_back(&a);
      be.accumulate(rows, group.inputs, coefficients);
      for (int t = 0; t < lw.taps; ++t) {
        if (!weighted[t]) continue;
        typename Backend::Accumulator done = std::move(accs[t]);  // released as soon as it is read
        Value part = be.mul_plain(be.finish(std::move(done)), source_masks.for_input_scale(scale)[t]);
        if (tap_terms[t])
          be.add_inplace(*tap_terms[t], part);
        else
          tap_terms[t] = std::move(part);
      }
    }
    std::vector<Value> terms;
    std::vector<int> steps;
    for (int t = 0; t < lw.taps; ++t) {
      if (!tap_terms[t]) continue;
      terms.push_back(std::move(*tap_terms[t]));
      steps.push_back(taps.steps[t]);
    }
    if (terms.empty()) {  // every weight of this output is zero (a pruned filter): its sum is zero
      const auto& [scale, group] = *by_scale.begin();
      typename Backend::Accumulator zero = be.accumulator(level, int_scale);
      typename Backend::Accumulator* row = &zero;
      be.accumulate(std::span(&row, 1), std::span(group.inputs).first(1),
                    std::vector<std::int64_t>{0});
      sums.push_back(be.mul_plain(be.finish(std::move(zero)), source_masks.for_input_scale(scale).front()));
      continue;
    }
    sums.push_back(be.rotate_and_sum(terms, steps));
  }
  return sums;
}

// Rescales one output sum and adds its constant (multiplier * bias + shift) and the pending-offset plane, if any.
// With a clean mask the constant is added only where the mask is 1, so slots outside the valid grid stay zero (as
// interleaving lanes needs).
template <LayerBackend Backend>
typename Backend::Value finish_output(const Backend& be, typename Backend::Value sum, double constant,
                                      const std::vector<double>* offsets, const std::vector<double>* clean_mask) {
  typename Backend::Value y = be.rescale(sum);
  if (clean_mask) {
    std::vector<double> v(clean_mask->size());
    for (std::size_t k = 0; k < v.size(); ++k) v[k] = constant * (*clean_mask)[k];
    if (offsets)
      for (std::size_t k = 0; k < v.size(); ++k) v[k] += (*offsets)[k];
    be.add_plain_inplace(y, be.encode(v, Backend::level(y), Backend::scale(y)));
  } else {
    be.add_const_inplace(y, constant);
    if (offsets) be.add_plain_inplace(y, be.encode(*offsets, Backend::level(y), Backend::scale(y)));
  }
  return y;
}

// The linear part of a layer (one level): y and, with two accumulators, z for every output channel.
template <LayerBackend Backend>
Preactivation<typename Backend::Value> linear_preactivation(const Backend& be,
                                                            const FeatureMap<typename Backend::Value>& in,
                                                            const LinearTaps& taps, const LinearWeights& lw,
                                                            const LayerOptions& opt,
                                                            const std::vector<double>* clean_mask = nullptr) {
  const int level = linear_input_level<Backend>(in, taps, lw);
  const ActivationMode mode = activation_mode(lw, opt);
  const double int_scale = std::ldexp(1.0, opt.weight_bits);
  const double out_scale = mode == ActivationMode::None ? opt.output_scale : opt.square_input_scale;
  const double term_scale = out_scale * be.prime(level) / int_scale;
  const AccumulatorMultipliers mult = accumulator_multipliers(mode, lw);

  using Value = typename Backend::Value;
  std::vector<Value> sum_y, sum_z;  // per output, at `level` before the rescale
  if (rotation_side(taps, lw, mode) == RotationSide::Output) {
    ScaleAlignedMasks<Backend> masks(be, source_masks(taps), level, term_scale);
    sum_y = rotate_outputs(be, in, taps, lw, level, masks, mult.y, int_scale);
    if (!mult.z.empty()) sum_z = rotate_outputs(be, in, taps, lw, level, masks, mult.z, int_scale);
  } else {
    ScaleAlignedMasks<Backend> masks(be, taps.masks, level, term_scale);
    std::vector<typename Backend::Accumulator> acc_y, acc_z;
    for (int co = 0; co < lw.out_channels; ++co) {
      acc_y.push_back(be.accumulator(level, int_scale));
      if (!mult.z.empty()) acc_z.push_back(be.accumulator(level, int_scale));
    }
    accumulate_taps(be, in, taps, lw, level, masks, mult, int_scale, acc_y, acc_z);
    // Each accumulator is released as soon as it is read (one ciphertext each).
    auto finish_all = [&](std::vector<typename Backend::Accumulator>& accs, std::vector<Value>& sums) {
      for (auto& acc : accs) {
        typename Backend::Accumulator done = std::move(acc);
        sums.push_back(be.finish(std::move(done)));
      }
    };
    finish_all(acc_y, sum_y);
    finish_all(acc_z, sum_z);
  }

  const bool has_offsets = std::any_of(in.offset.begin(), in.offset.end(), [](double o) { return o != 0.0; });
  auto finish = [&](Value& sum, int co, double multiplier, double shift) {
    const std::vector<double> plane = has_offsets ? offset_plane(taps, lw, in.offset, co, multiplier)
                                                  : std::vector<double>{};
    return finish_output(be, std::move(sum), multiplier * lw.bias[co] + shift, has_offsets ? &plane : nullptr,
                         clean_mask);
  };
  Preactivation<typename Backend::Value> pre;
  pre.mode = mode;
  pre.stride = taps.out_stride;
  pre.lanes = taps.out_lanes;
  for (int co = 0; co < lw.out_channels; ++co) {
    if (mode == ActivationMode::CompletedSquare) {
      const double a = (*lw.quad_a)[co], b = (*lw.quad_b)[co];
      pre.y.push_back(finish(sum_y[co], co, mult.y[co], mult.y[co] * b / (2 * a)));
    } else {
      pre.y.push_back(finish(sum_y[co], co, 1.0, 0.0));
      if (mode == ActivationMode::TwoAccumulators)
        pre.z.push_back(finish(sum_z[co], co, mult.z[co], (*lw.quad_b)[co]));
    }
  }
  return pre;
}

// The activation step of a fused layer (one ciphertext product and rescale per output), or nothing. Each
// pre-activation is released as soon as its output exists.
template <LayerBackend Backend>
FeatureMap<typename Backend::Value> activate(const Backend& be, Preactivation<typename Backend::Value>&& pre,
                                             const LinearWeights& lw) {
  FeatureMap<typename Backend::Value> out;
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
      pre.y[co] = {};
    } else if (pre.mode == ActivationMode::TwoAccumulators) {
      out.channels.push_back(be.rescale(be.multiply_relin(pre.y[co], pre.z[co])));
      out.offset[co] = lw.quad_c ? (*lw.quad_c)[co] : 0.0;
      pre.y[co] = {};
      pre.z[co] = {};
    } else {
      out.channels.push_back(std::move(pre.y[co]));
    }
  }
  return out;
}

// A convolution or transposed convolution (with its fused activation) on one map.
template <LayerBackend Backend>
FeatureMap<typename Backend::Value> linear_layer(const Backend& be, const FeatureMap<typename Backend::Value>& in,
                                                 const LinearTaps& taps, const LinearWeights& lw,
                                                 const LayerOptions& opt) {
  return activate(be, linear_preactivation(be, in, taps, lw, opt), lw);
}

// LaneStep::Merge: each lane's pre-activations are computed with clean constants (zero off the stride grid), rotated
// right by the lane's offset into a free phase of the stride cell and summed, then activated once. No level is spent
// (rotations only). Each lane's input is released as soon as its pre-activations exist.
template <LayerBackend Backend>
FeatureMap<typename Backend::Value> merge_lanes(const Backend& be,
                                                std::vector<FeatureMap<typename Backend::Value>> lanes,
                                                const LinearTaps& taps, const LinearWeights& lw,
                                                const LayerOptions& opt, const Layout& layout) {
  if (taps.out_stride < 2 || lanes.size() > static_cast<std::size_t>(Layout::kMaxLanes))
    throw std::invalid_argument("merge_lanes: needs stride >= 2 and at most 4 lanes");
  const std::vector<double> clean = layout.grid_mask(taps.out_stride);
  Preactivation<typename Backend::Value> merged;
  for (std::size_t j = 0; j < lanes.size(); ++j) {
    auto pre = linear_preactivation(be, lanes[j], taps, lw, opt, &clean);
    lanes[j] = {};
    if (j == 0) {
      merged = std::move(pre);
      continue;
    }
    const int step = -layout.lane_offset(static_cast<int>(j));
    for (std::size_t co = 0; co < pre.y.size(); ++co) {
      be.add_inplace(merged.y[co], be.rotate(pre.y[co], step));
      pre.y[co] = {};
    }
    for (std::size_t co = 0; co < pre.z.size(); ++co) {
      be.add_inplace(merged.z[co], be.rotate(pre.z[co], step));
      pre.z[co] = {};
    }
  }
  merged.lanes = static_cast<int>(lanes.size());
  return activate(be, std::move(merged), lw);
}

// LaneStep::Split: one interleaved stride-2 map back to one stride-1 map per lane.
template <LayerBackend Backend>
std::vector<FeatureMap<typename Backend::Value>> split_lanes(const Backend& be,
                                                             const FeatureMap<typename Backend::Value>& in,
                                                             const nn::Node& node, const LinearWeights& lw,
                                                             const LayerOptions& opt, const Layout& layout) {
  std::vector<FeatureMap<typename Backend::Value>> out;
  for (int lane = 0; lane < in.lanes; ++lane)
    out.push_back(linear_layer(be, in, split_taps(node, layout, lane), lw, opt));
  return out;
}

}  // namespace cryptounet::henn
