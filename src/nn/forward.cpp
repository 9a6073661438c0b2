#include "nn/forward.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cryptounet::nn {

namespace {

[[noreturn]] void fail(const Node& node, const std::string& what) {
  throw std::runtime_error("forward: node '" + node.name + "' (" + op_name(node.op) + "): " + what);
}

// out[o] = bias[o] + sum_i sum_(ky,kx) w[o][i][ky][kx] * in[i](y + ky - p, x + kx - p), zero outside the image.
Tensor conv2d(const Node& n, const Tensor& in) {
  const int k = n.kernel, p = n.padding, h = in.height, w = in.width;
  Tensor out(n.channels, h, w);
  for (int o = 0; o < n.channels; ++o) {
    double* dst = out.channel(o);
    std::fill(dst, dst + out.plane_size(), n.bias[o]);
    for (int i = 0; i < n.in_channels; ++i) {
      const double* src = in.channel(i);
      for (int ky = 0; ky < k; ++ky) {
        const int dy = ky - p;
        for (int kx = 0; kx < k; ++kx) {
          const int dx = kx - p;
          const double wt = n.conv_weight(o, i, ky, kx);
          const int y0 = std::max(0, -dy), y1 = std::min(h, h - dy);
          const int x0 = std::max(0, -dx), x1 = std::min(w, w - dx);
          for (int y = y0; y < y1; ++y) {
            double* row = dst + static_cast<std::size_t>(y) * w;
            const double* srow = src + static_cast<std::size_t>(y + dy) * w + dx;
            for (int x = x0; x < x1; ++x) row[x] += wt * srow[x];
          }
        }
      }
    }
  }
  return out;
}

// Kernel 2, stride 2: out[o](2y + a, 2x + b) = bias[o] + sum_i w[i][o][a][b] * in[i](y, x).
Tensor conv_transpose2d(const Node& n, const Tensor& in) {
  Tensor out(n.channels, in.height * 2, in.width * 2);
  for (int o = 0; o < n.channels; ++o) {
    double* dst = out.channel(o);
    std::fill(dst, dst + out.plane_size(), n.bias[o]);
    for (int i = 0; i < n.in_channels; ++i) {
      const double* src = in.channel(i);
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          const double wt = n.conv_transpose_weight(i, o, a, b);
          for (int y = 0; y < in.height; ++y)
            for (int x = 0; x < in.width; ++x)
              dst[static_cast<std::size_t>(2 * y + a) * out.width + 2 * x + b] +=
                  wt * src[static_cast<std::size_t>(y) * in.width + x];
        }
    }
  }
  return out;
}

// Kernel 2, stride 2, no padding: out[o](y, x) = bias[o] + sum_i sum_(a,b) w[o][i][a][b] * in[i](2y + a, 2x + b).
Tensor strided_conv2x2(const Node& n, const Tensor& in) {
  if (in.height % 2 != 0 || in.width % 2 != 0) fail(n, "odd spatial size " + std::to_string(in.height) + "x" +
                                                           std::to_string(in.width));
  Tensor out(n.channels, in.height / 2, in.width / 2);
  for (int o = 0; o < n.channels; ++o) {
    double* dst = out.channel(o);
    std::fill(dst, dst + out.plane_size(), n.bias[o]);
    for (int i = 0; i < n.in_channels; ++i)
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          const double wt = n.conv_weight(o, i, a, b);
          for (int y = 0; y < out.height; ++y)
            for (int x = 0; x < out.width; ++x)
              dst[static_cast<std::size_t>(y) * out.width + x] += wt * in.at(i, 2 * y + a, 2 * x + b);
        }
  }
  return out;
}

template <class Combine>
Tensor pool2x2(const Node& n, const Tensor& in, Combine combine) {
  if (in.height % 2 != 0 || in.width % 2 != 0) fail(n, "odd spatial size " + std::to_string(in.height) + "x" +
                                                           std::to_string(in.width));
  Tensor out(in.channels, in.height / 2, in.width / 2);
  for (int c = 0; c < in.channels; ++c)
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x)
        out.at(c, y, x) = combine(in.at(c, 2 * y, 2 * x), in.at(c, 2 * y, 2 * x + 1), in.at(c, 2 * y + 1, 2 * x),
                                  in.at(c, 2 * y + 1, 2 * x + 1));
  return out;
}

void check_same_plane(const Node& n, const Tensor& a, const Tensor& b) {
  if (a.height != b.height || a.width != b.width) fail(n, "inputs differ in spatial size");
}

}  // namespace

Tensor apply_node(const Node& n, const std::vector<const Tensor*>& inputs) {
  if (inputs.size() != n.inputs.size()) fail(n, "wrong number of inputs");
  if (n.op == Op::Input) fail(n, "the input node has no computation");
  const Tensor& x = *inputs[0];
  const bool weighted = n.op == Op::Conv2d || n.op == Op::StridedConv2x2 || n.op == Op::ConvTranspose2d;
  const int expected_in = weighted ? n.in_channels : n.op == Op::Concat ? x.channels : n.channels;
  if (x.channels != expected_in) fail(n, "input has " + std::to_string(x.channels) + " channels");
  switch (n.op) {
    case Op::Conv2d: return conv2d(n, x);
    case Op::StridedConv2x2: return strided_conv2x2(n, x);
    case Op::ConvTranspose2d: return conv_transpose2d(n, x);
    case Op::AvgPool2x2:
      return pool2x2(n, x, [](double a, double b, double c, double d) { return 0.25 * (a + b + c + d); });
    case Op::MaxPool2x2:
      return pool2x2(n, x, [](double a, double b, double c, double d) { return std::max({a, b, c, d}); });
    case Op::Quadratic: {
      Tensor out = x;
      for (int c = 0; c < x.channels; ++c) {
        double* v = out.channel(c);
        const double constant = n.c.empty() ? 0.0 : n.c[c];
        for (std::size_t j = 0; j < out.plane_size(); ++j) v[j] = n.a[c] * v[j] * v[j] + n.b[c] * v[j] + constant;
      }
      return out;
    }
    case Op::Relu: {
      Tensor out = x;
      for (double& v : out.data) v = std::max(v, 0.0);
      return out;
    }
    case Op::Concat: {
      const Tensor& y = *inputs[1];
      check_same_plane(n, x, y);
      if (x.channels + y.channels != n.channels) fail(n, "channel count mismatch");
      Tensor out(n.channels, x.height, x.width);
      std::copy(x.data.begin(), x.data.end(), out.data.begin());
      std::copy(y.data.begin(), y.data.end(), out.data.begin() + static_cast<std::ptrdiff_t>(x.size()));
      return out;
    }
    case Op::Add: {
      const Tensor& y = *inputs[1];
      check_same_plane(n, x, y);
      if (y.channels != x.channels) fail(n, "inputs differ in channels");
      Tensor out = x;
      for (std::size_t j = 0; j < out.size(); ++j) out.data[j] += y.data[j];
      return out;
    }
    case Op::Input: break;
  }
  fail(n, "unknown op");
}

namespace {

void check_input(const Model& model, const Tensor& input) {
  const int depth = model.pooling_depth();
  if (input.channels != model.input().channels)
    throw std::runtime_error("forward: model '" + model.name + "' expects " +
                             std::to_string(model.input().channels) + " input channels, got " +
                             std::to_string(input.channels));
  const int multiple = 1 << depth;
  if (input.height <= 0 || input.width <= 0 || input.height % multiple != 0 || input.width % multiple != 0)
    throw std::runtime_error("forward: input " + std::to_string(input.height) + "x" + std::to_string(input.width) +
                             " is not a positive multiple of " + std::to_string(multiple));
}

std::vector<const Tensor*> gather(const Node& n, const std::vector<Tensor>& acts) {
  std::vector<const Tensor*> in;
  for (int i : n.inputs) in.push_back(&acts[i]);
  return in;
}

}  // namespace

std::vector<Tensor> forward(const Model& model, const Tensor& input) {
  check_input(model, input);
  std::vector<Tensor> acts(model.nodes.size());
  acts[0] = input;
  for (std::size_t i = 1; i < model.nodes.size(); ++i) acts[i] = apply_node(model.nodes[i], gather(model.nodes[i], acts));
  return acts;
}

Tensor forward_output(const Model& model, const Tensor& input) {
  check_input(model, input);
  const std::size_t count = model.nodes.size();
  std::vector<std::size_t> last_use(count, 0);
  for (std::size_t i = 0; i < count; ++i)
    for (int in : model.nodes[i].inputs) last_use[in] = i;
  std::vector<Tensor> acts(count);
  acts[0] = input;
  for (std::size_t i = 1; i < count; ++i) {
    acts[i] = apply_node(model.nodes[i], gather(model.nodes[i], acts));
    for (int in : model.nodes[i].inputs)
      if (last_use[in] == i) acts[in] = Tensor();  // no later node reads it
  }
  return std::move(acts.back());
}

}  // namespace cryptounet::nn
