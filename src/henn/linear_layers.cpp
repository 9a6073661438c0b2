#include "henn/linear_layers.h"

namespace cryptounet::henn {

std::vector<double> conv_tap_mask(const Layout& layout, int stride, int dy, int dx, int lanes) {
  const int h = layout.height / stride, w = layout.width / stride;
  return layout.grid_mask(stride, lanes,
                          [&](int i, int j) { return i + dy >= 0 && i + dy < h && j + dx >= 0 && j + dx < w; });
}

std::vector<double> phase_mask(const Layout& layout, int stride, int a, int b, int lanes) {
  if (stride < 2) throw std::invalid_argument("phase_mask: a transposed convolution needs an input stride >= 2");
  const int half = stride / 2;
  if (lanes > 1 && half < 2)
    throw std::invalid_argument("phase_mask: lanes are split by the transposed convolution to stride 1");
  return layout.grid_mask(stride, lanes, [](int, int) { return true; }, half * (a * layout.width + b));
}

bool is_linear(nn::Op op) {
  return op == nn::Op::Conv2d || op == nn::Op::StridedConv2x2 || op == nn::Op::ConvTranspose2d;
}

int output_stride(nn::Op op, int in_stride) {
  switch (op) {
    case nn::Op::Conv2d: return in_stride;
    case nn::Op::StridedConv2x2: return 2 * in_stride;
    case nn::Op::ConvTranspose2d: return in_stride / 2;
    default: throw std::invalid_argument(std::string("output_stride: ") + nn::op_name(op) + " is not a linear layer");
  }
}

LinearWeights linear_weights(const nn::Node& node, const nn::Node* activation) {
  LinearWeights w;
  w.in_channels = node.in_channels;
  w.out_channels = node.channels;
  w.bias = node.bias;
  if (activation) {
    w.quad_a = &activation->a;
    w.quad_b = &activation->b;
    if (!activation->c.empty()) w.quad_c = &activation->c;
  }
  if (node.op != nn::Op::ConvTranspose2d) {  // weight [out][in][k][k]
    const int k = node.kernel;
    w.taps = k * k;
    w.weight.resize(static_cast<std::size_t>(w.out_channels) * w.in_channels * w.taps);
    for (int co = 0; co < w.out_channels; ++co)
      for (int ci = 0; ci < w.in_channels; ++ci)
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx)
            w.weight[(static_cast<std::size_t>(co) * w.in_channels + ci) * w.taps + ky * k + kx] =
                node.conv_weight(co, ci, ky, kx);
  } else {
    w.taps = 4;
    w.weight.resize(static_cast<std::size_t>(w.out_channels) * w.in_channels * 4);
    for (int co = 0; co < w.out_channels; ++co)
      for (int ci = 0; ci < w.in_channels; ++ci)
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b)
            w.weight[(static_cast<std::size_t>(co) * w.in_channels + ci) * 4 + a * 2 + b] =
                node.conv_transpose_weight(ci, co, a, b);
  }
  return w;
}

LinearTaps linear_taps(const nn::Node& node, const Layout& layout, int in_stride, int lanes) {
  if (!is_linear(node.op)) throw std::invalid_argument("linear_taps: not a linear node");
  LinearTaps t;
  t.out_lanes = lanes;
  t.out_stride = output_stride(node.op, in_stride);
  if (node.op == nn::Op::Conv2d) {
    const int r = node.kernel / 2;
    for (int dy = -r; dy <= r; ++dy)
      for (int dx = -r; dx <= r; ++dx) {
        t.steps.push_back(layout.tap_step(in_stride, dy, dx));
        t.masks.push_back(conv_tap_mask(layout, in_stride, dy, dx, lanes));
      }
  } else if (node.op == nn::Op::StridedConv2x2) {
    // Output (i, j) at stride 2s reads the 2x2 window (2i + a, 2j + b) of the stride-s grid, s*(a*W + b) slots after
    // it (the pooling's rotations and the diagonal); every output position of the grid is valid (no padding).
    const std::vector<double> grid = layout.grid_mask(t.out_stride, lanes);
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        t.steps.push_back(layout.tap_step(in_stride, a, b));
        t.masks.push_back(grid);
      }
  } else {
    // Output phase (a, b) at stride s/2 reads input (i, j) from s/2*(a*W + b) slots before it.
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        t.steps.push_back(-t.out_stride * (a * layout.width + b));
        t.masks.push_back(phase_mask(layout, in_stride, a, b, lanes));
      }
  }
  return t;
}

LinearTaps split_taps(const nn::Node& node, const Layout& layout, int lane) {
  if (node.op != nn::Op::ConvTranspose2d) throw std::invalid_argument("split_taps: not a transposed convolution");
  LinearTaps t;
  t.out_stride = 1;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      t.steps.push_back(layout.lane_offset(lane) - (a * layout.width + b));
      t.masks.push_back(phase_mask(layout, 2, a, b));
    }
  return t;
}

LaneStep lane_step(nn::Op op, int in_stride, bool interleaved) {
  const bool convolution = op == nn::Op::Conv2d || op == nn::Op::StridedConv2x2;
  if (convolution && output_stride(op, in_stride) >= 2 && !interleaved) return LaneStep::Merge;
  if (op == nn::Op::ConvTranspose2d && in_stride == 2 && interleaved) return LaneStep::Split;
  return LaneStep::Keep;
}

std::vector<int> lane_rotation_steps(LaneStep step, const nn::Node& node, const Layout& layout) {
  std::vector<int> steps;
  if (step == LaneStep::Merge)  // lane j's outputs rotate right by lane_offset(j)
    for (int lane = 1; lane < Layout::kMaxLanes; ++lane) steps.push_back(-layout.lane_offset(lane));
  if (step == LaneStep::Split)
    for (int lane = 0; lane < Layout::kMaxLanes; ++lane)
      for (int s : split_taps(node, layout, lane).steps) steps.push_back(s);
  return steps;
}

std::int64_t integer_weight(double w, double integer_scale) {
  const double c = std::round(w * integer_scale);
  if (std::abs(c) >= 0x1p31)
    throw std::runtime_error("encrypted layer: weight " + std::to_string(w) +
                             " overflows the integer encoding; lower weight_bits");
  return static_cast<std::int64_t>(c);
}

ActivationMode activation_mode(const LinearWeights& lw, const LayerOptions& opt) {
  if (!lw.quad_a) return ActivationMode::None;
  for (int c = 0; c < lw.out_channels; ++c) {
    const double a = (*lw.quad_a)[c], b = (*lw.quad_b)[c];
    if (a == 0.0 || std::abs(b / (2 * a)) > opt.max_square_shift) return ActivationMode::TwoAccumulators;
  }
  return ActivationMode::CompletedSquare;
}

AccumulatorMultipliers accumulator_multipliers(ActivationMode mode, const LinearWeights& lw) {
  AccumulatorMultipliers m;
  m.y.assign(lw.out_channels, 1.0);
  if (mode == ActivationMode::CompletedSquare)
    for (int co = 0; co < lw.out_channels; ++co) m.y[co] = std::sqrt(std::abs((*lw.quad_a)[co]));
  if (mode == ActivationMode::TwoAccumulators) m.z = *lw.quad_a;
  return m;
}

std::vector<std::vector<double>> source_masks(const LinearTaps& taps) {
  std::vector<std::vector<double>> out;
  for (std::size_t t = 0; t < taps.masks.size(); ++t) {
    const std::vector<double>& m = taps.masks[t];
    const long n = static_cast<long>(m.size());
    const long shift = ((taps.steps[t] % n) + n) % n;
    std::vector<double> source(m.size());
    for (long j = 0; j < n; ++j) source[j] = m[(j - shift + n) % n];
    out.push_back(std::move(source));
  }
  return out;
}

RotationSide rotation_side(const LinearTaps& taps, const LinearWeights& lw, ActivationMode mode) {
  const long slots = static_cast<long>(taps.masks.front().size());
  const long rotated = std::count_if(taps.steps.begin(), taps.steps.end(), [&](int s) { return s % slots != 0; });
  const long input_side = lw.in_channels * (1 + 2 * rotated);
  const long output_side = static_cast<long>(accumulators_per_output(mode)) * lw.out_channels * (rotated + 2);
  return rotated > 0 && output_side < input_side ? RotationSide::Output : RotationSide::Input;
}

std::vector<double> offset_plane(const LinearTaps& taps, const LinearWeights& lw, const std::vector<double>& offsets,
                                 int co, double multiplier) {
  std::vector<double> v(taps.masks.front().size(), 0.0);
  for (int t = 0; t < lw.taps; ++t) {
    double g = 0;
    for (int ci = 0; ci < lw.in_channels; ++ci) g += lw.at(co, ci, t) * offsets[ci];
    if (g == 0.0) continue;
    for (std::size_t k = 0; k < v.size(); ++k) v[k] += multiplier * g * taps.masks[t][k];
  }
  return v;
}

}  // namespace cryptounet::henn
