// A small random U-Net with the default model's structure (conv3x3 + quadratic twice per stage, avg pool,
// ConvTranspose k2 s2, concat [up, skip], 1x1 head), for tests; in_channels input channels, a head of out_channels;
// with_strided_downsampling swaps the poolings for strided convolutions.
#pragma once

#include "nn/model.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace cryptounet::henn::testing {

inline nn::Model tiny_unet(int depth, int base_channels, unsigned seed = 7, int in_channels = 1, int out_channels = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  nn::Model m;
  m.name = "tiny_unet";
  auto push = [&](nn::Node n) {
    n.name = std::string(nn::op_name(n.op)) + "_" + std::to_string(m.nodes.size());
    m.nodes.push_back(std::move(n));
    return static_cast<int>(m.nodes.size()) - 1;
  };
  nn::Node input;
  input.channels = in_channels;
  int x = push(input);
  auto conv = [&](int from, int out, int k) {
    nn::Node n;
    n.op = nn::Op::Conv2d;
    n.inputs = {from};
    n.in_channels = m.nodes[from].channels;
    n.channels = out;
    n.kernel = k;
    n.padding = k / 2;
    const double sd = 1.0 / std::sqrt(n.in_channels * k * k);
    for (int i = 0; i < out * n.in_channels * k * k; ++i) n.weight.push_back(sd * normal(rng));
    for (int i = 0; i < out; ++i) n.bias.push_back(0.1 * uniform(rng));
    return push(n);
  };
  auto quad = [&](int from) {
    nn::Node n;
    n.op = nn::Op::Quadratic;
    n.inputs = {from};
    n.channels = m.nodes[from].channels;
    for (int i = 0; i < n.channels; ++i) {
      n.a.push_back(0.1 + 0.1 * uniform(rng));
      n.b.push_back(1.0 + 0.2 * uniform(rng));
    }
    return push(n);
  };
  auto block = [&](int from, int out) { return quad(conv(quad(conv(from, out, 3)), out, 3)); };
  std::vector<int> skips;
  int c = base_channels;
  for (int d = 0; d < depth; ++d) {
    x = block(x, c);
    skips.push_back(x);
    nn::Node pool;
    pool.op = nn::Op::AvgPool2x2;
    pool.inputs = {x};
    pool.channels = c;
    x = push(pool);
    c *= 2;
  }
  x = block(x, c);
  for (int d = depth - 1; d >= 0; --d) {
    c /= 2;
    nn::Node up;
    up.op = nn::Op::ConvTranspose2d;
    up.inputs = {x};
    up.in_channels = m.nodes[x].channels;
    up.channels = c;
    up.kernel = 2;
    const double sd = 1.0 / std::sqrt(up.in_channels);
    for (int i = 0; i < up.in_channels * c * 4; ++i) up.weight.push_back(sd * normal(rng));
    for (int i = 0; i < c; ++i) up.bias.push_back(0.1 * uniform(rng));
    x = push(up);
    nn::Node cat;
    cat.op = nn::Op::Concat;
    cat.inputs = {x, skips[d]};
    cat.channels = c + m.nodes[skips[d]].channels;
    x = block(push(cat), c);
  }
  conv(x, out_channels, 1);
  m.validate();
  return m;
}

// The same network with every AvgPool2x2 replaced by a learned Conv2d(kernel 2, stride 2) (random weights).
inline nn::Model with_strided_downsampling(nn::Model m, unsigned seed = 5) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (nn::Node& n : m.nodes) {
    if (n.op != nn::Op::AvgPool2x2) continue;
    n.op = nn::Op::StridedConv2x2;
    n.in_channels = n.channels;
    n.kernel = 2;
    const double sd = 1.0 / std::sqrt(4.0 * n.in_channels);
    for (int i = 0; i < n.channels * n.in_channels * 4; ++i) n.weight.push_back(sd * normal(rng));
    for (int i = 0; i < n.channels; ++i) n.bias.push_back(0.1 * normal(rng));
  }
  m.validate();
  return m;
}

// Primes near 2^40 that differ from each other, for the plain backend, so exact scale tracking is exercised.
inline std::vector<double> fake_primes(int levels) {
  std::vector<double> primes{0x1p60};
  for (int l = 1; l <= levels; ++l) primes.push_back(0x1p40 * (1.0 - 1e-7 * l));
  return primes;
}

}  // namespace cryptounet::henn::testing
