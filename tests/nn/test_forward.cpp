#include "nn/forward.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace cryptounet::nn {
namespace {

Tensor wave(int c, int h, int w, double f) {
  Tensor t(c, h, w);
  for (std::size_t i = 0; i < t.size(); ++i) t.data[i] = std::sin(f * static_cast<double>(i) + 0.3);
  return t;
}

Node conv_node(int in, int out, int k) {
  Node n;
  n.op = Op::Conv2d;
  n.name = "conv";
  n.inputs = {0};
  n.in_channels = in;
  n.channels = out;
  n.kernel = k;
  n.padding = k / 2;
  for (int i = 0; i < out * in * k * k; ++i) n.weight.push_back(std::cos(0.37 * i));
  for (int o = 0; o < out; ++o) n.bias.push_back(0.1 * o - 0.05);
  return n;
}

// Same-padding conv against a direct evaluation on an explicitly zero-padded copy of the input.
TEST(Forward, Conv3x3MatchesZeroPaddedDirectSum) {
  const Node n = conv_node(3, 2, 3);
  const Tensor x = wave(3, 5, 6, 0.41);
  const Tensor out = apply_node(n, {&x});
  Tensor padded(3, 7, 8);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 5; ++y)
      for (int xx = 0; xx < 6; ++xx) padded.at(c, y + 1, xx + 1) = x.at(c, y, xx);
  for (int o = 0; o < 2; ++o)
    for (int y = 0; y < 5; ++y)
      for (int xx = 0; xx < 6; ++xx) {
        double s = n.bias[o];
        for (int i = 0; i < 3; ++i)
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) s += n.conv_weight(o, i, ky, kx) * padded.at(i, y + ky, xx + kx);
        EXPECT_NEAR(out.at(o, y, xx), s, 1e-12);
      }
}

TEST(Forward, ConvTransposeScattersEachPixelToA2x2Block) {
  Node n;
  n.op = Op::ConvTranspose2d;
  n.name = "up";
  n.inputs = {0};
  n.in_channels = 1;
  n.channels = 2;
  n.kernel = 2;
  n.weight = {1, 2, 3, 4, -1, -2, -3, -4};  // [in=1][out=2][2][2]
  n.bias = {0.5, 0};
  Tensor x(1, 1, 2);
  x.data = {1.0, 10.0};
  const Tensor out = apply_node(n, {&x});
  ASSERT_EQ(out.height, 2);
  ASSERT_EQ(out.width, 4);
  EXPECT_DOUBLE_EQ(out.at(0, 0, 0), 1.5);
  EXPECT_DOUBLE_EQ(out.at(0, 1, 1), 4.5);
  EXPECT_DOUBLE_EQ(out.at(0, 0, 3), 20.5);
  EXPECT_DOUBLE_EQ(out.at(1, 1, 2), -30.0);
}

TEST(Forward, StridedConvWeighsEach2x2Window) {
  Node n;
  n.op = Op::StridedConv2x2;
  n.name = "down";
  n.inputs = {0};
  n.in_channels = 1;
  n.channels = 1;
  n.kernel = 2;
  n.weight = {1, 10, 100, 1000};  // [out=1][in=1][2][2]
  n.bias = {0.5};
  Tensor x(1, 2, 4);
  x.data = {1, 2, 3, 4, 5, 6, 7, 8};
  const Tensor out = apply_node(n, {&x});
  ASSERT_EQ(out.height, 1);
  ASSERT_EQ(out.width, 2);
  EXPECT_DOUBLE_EQ(out.at(0, 0, 0), 0.5 + 1 + 20 + 500 + 6000);
  EXPECT_DOUBLE_EQ(out.at(0, 0, 1), 0.5 + 3 + 40 + 700 + 8000);
  Tensor odd(1, 3, 4);
  EXPECT_THROW(apply_node(n, {&odd}), std::runtime_error);
}

TEST(Forward, PoolingAndActivations) {
  Tensor x(1, 2, 4);
  x.data = {1, -2, 3, 4, 5, 6, -7, 8};
  Node avg;
  avg.op = Op::AvgPool2x2;
  avg.channels = 1;
  avg.inputs = {0};
  Node mx = avg;
  mx.op = Op::MaxPool2x2;
  const Tensor a = apply_node(avg, {&x}), m = apply_node(mx, {&x});
  EXPECT_DOUBLE_EQ(a.data[0], 2.5);
  EXPECT_DOUBLE_EQ(a.data[1], 2.0);
  EXPECT_DOUBLE_EQ(m.data[0], 6);
  EXPECT_DOUBLE_EQ(m.data[1], 8);
  Node q = avg;
  q.op = Op::Quadratic;
  q.a = {0.5};
  q.b = {2};
  EXPECT_DOUBLE_EQ(apply_node(q, {&x}).data[1], 0.5 * 4 - 4);
  Node r = avg;
  r.op = Op::Relu;
  EXPECT_DOUBLE_EQ(apply_node(r, {&x}).data[6], 0);
  Tensor odd(1, 3, 4);
  EXPECT_THROW(apply_node(avg, {&odd}), std::runtime_error);
}

TEST(Forward, RejectsInputsThatDoNotFitTheModel) {
  Model m;
  m.name = "pool";
  Node in;
  in.op = Op::Input;
  in.name = "image";
  in.channels = 1;
  Node pool;
  pool.op = Op::AvgPool2x2;
  pool.name = "pool";
  pool.inputs = {0};
  pool.channels = 1;
  m.nodes = {in, pool};
  m.validate();
  EXPECT_NO_THROW(forward(m, Tensor(1, 4, 6)));
  EXPECT_THROW(forward(m, Tensor(1, 5, 6)), std::runtime_error);
  EXPECT_THROW(forward(m, Tensor(2, 4, 4)), std::runtime_error);
  const Tensor out = forward_output(m, wave(1, 4, 4, 0.2));
  EXPECT_EQ(out.height, 2);
}

}  // namespace
}  // namespace cryptounet::nn
