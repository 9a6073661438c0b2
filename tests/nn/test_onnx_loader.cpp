#include "nn/forward.h"
#include "nn/onnx_loader.h"
#include "onnx_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace cryptounet::nn {
namespace {

using test::OnnxBuilder;

std::vector<float> ramp(std::size_t n, float start, float step) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + step * static_cast<float>(i);
  return v;
}

// Conv(1->2, 3x3) -> quadratic -> AvgPool -> ConvT(2->2) -> Concat([up, act]) -> Conv 1x1 (4->1).
std::string tiny_unet_bytes() {
  OnnxBuilder b;
  b.initializer("c0.w", {2, 1, 3, 3}, ramp(18, -0.4f, 0.05f));
  b.initializer("c0.b", {2}, {0.1f, -0.2f});
  b.initializer("q.a", {1, 2, 1, 1}, {0.25f, 0.5f});
  b.initializer("q.b", {1, 2, 1, 1}, {1.0f, 0.75f});
  b.initializer("up.w", {2, 2, 2, 2}, ramp(16, -0.3f, 0.04f));
  b.initializer("up.b", {2}, {0.0f, 0.05f});
  b.initializer("head.w", {1, 4, 1, 1}, {0.5f, -0.25f, 0.3f, 0.1f});
  b.initializer("head.b", {1}, {0.2f});
  auto* c0 = b.node("Conv", "conv0", {"image", "c0.w", "c0.b"}, "conv0.out");
  OnnxBuilder::ints(c0, "kernel_shape", {3, 3});
  OnnxBuilder::ints(c0, "pads", {1, 1, 1, 1});
  b.node("Mul", "q.mul_a", {"conv0.out", "q.a"}, "q.ay");
  b.node("Add", "q.add_b", {"q.ay", "q.b"}, "q.ay_b");
  b.node("Mul", "act0", {"q.ay_b", "conv0.out"}, "act0.out");
  auto* pool = b.node("AveragePool", "pool0", {"act0.out"}, "pool0.out");
  OnnxBuilder::ints(pool, "kernel_shape", {2, 2});
  OnnxBuilder::ints(pool, "strides", {2, 2});
  auto* up = b.node("ConvTranspose", "up0", {"pool0.out", "up.w", "up.b"}, "up0.out");
  OnnxBuilder::ints(up, "kernel_shape", {2, 2});
  OnnxBuilder::ints(up, "strides", {2, 2});
  auto* cat = b.node("Concat", "cat0", {"up0.out", "act0.out"}, "cat0.out");
  auto* axis = cat->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto_AttributeType_INT);
  axis->set_i(1);
  b.node("Conv", "head", {"cat0.out", "head.w", "head.b"}, "logits");
  return b.bytes("logits");
}

TEST(OnnxLoader, ParsesTheContractPatterns) {
  const Model m = load_onnx_bytes(tiny_unet_bytes(), "tiny");
  ASSERT_EQ(m.nodes.size(), 7u);
  const Op expected[] = {Op::Input, Op::Conv2d, Op::Quadratic, Op::AvgPool2x2, Op::ConvTranspose2d, Op::Concat,
                         Op::Conv2d};
  for (std::size_t i = 0; i < m.nodes.size(); ++i) EXPECT_EQ(m.nodes[i].op, expected[i]) << "node " << i;
  const Node& q = m.nodes[2];
  EXPECT_EQ(q.name, "act0.out");
  EXPECT_EQ(q.a, (std::vector<double>{0.25, 0.5}));
  EXPECT_EQ(q.b, (std::vector<double>{1.0, 0.75}));
  EXPECT_EQ(m.nodes[5].inputs, (std::vector<int>{4, 2}));  // [upsampled, skip]
  EXPECT_EQ(m.nodes[5].channels, 4);
  EXPECT_EQ(m.output().name, "logits");
  EXPECT_EQ(m.pooling_depth(), 1);

  // The quadratic node computes a y^2 + b y on the conv output.
  Tensor x(1, 4, 4);
  for (std::size_t i = 0; i < x.size(); ++i) x.data[i] = std::sin(0.7 * static_cast<double>(i));
  const auto acts = forward(m, x);
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 4; ++y)
      for (int xx = 0; xx < 4; ++xx) {
        const double v = acts[1].at(c, y, xx);
        EXPECT_NEAR(acts[2].at(c, y, xx), q.a[c] * v * v + q.b[c] * v, 1e-12);
      }
}

// Loading must fail with a message that contains every one of `words` (the node's name, the op, the reason).
void expect_error_mentions(const std::string& bytes, const std::vector<std::string>& words) {
  try {
    load_onnx_bytes(bytes, "bad");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    for (const auto& w : words) EXPECT_NE(what.find(w), std::string::npos) << what;
  }
}

TEST(OnnxLoader, RejectsUnsupportedOpNamingTheNode) {
  OnnxBuilder b;
  b.node("Sigmoid", "my_sigmoid_7", {"image"}, "logits");
  expect_error_mentions(b.bytes("logits"), {"my_sigmoid_7", "Sigmoid"});
}

TEST(OnnxLoader, RejectsUnsupportedAttributeNamingTheNode) {
  OnnxBuilder b;
  b.initializer("w", {1, 1, 3, 3}, ramp(9, 0.f, 0.1f));
  auto* c = b.node("Conv", "strided_conv", {"image", "w"}, "logits");
  OnnxBuilder::ints(c, "strides", {2, 2});
  OnnxBuilder::ints(c, "pads", {1, 1, 1, 1});
  expect_error_mentions(b.bytes("logits"), {"strided_conv", "stride"});
}

TEST(OnnxLoader, RejectsBadShapesAndOperands) {
  {  // even kernel: no exact same padding
    OnnxBuilder b;
    b.initializer("w", {1, 1, 4, 4}, ramp(16, 0.f, 0.1f));
    auto* c = b.node("Conv", "conv4", {"image", "w"}, "logits");
    OnnxBuilder::ints(c, "pads", {2, 2, 2, 2});
    expect_error_mentions(b.bytes("logits"), {"conv4", "kernel 4"});
  }
  {  // 2x2 kernel at stride 1: not the downsampling pattern, and no same padding
    OnnxBuilder b;
    b.initializer("w", {1, 1, 2, 2}, ramp(4, 0.f, 0.1f));
    b.node("Conv", "conv2", {"image", "w"}, "logits");
    expect_error_mentions(b.bytes("logits"), {"conv2", "stride 2"});
  }
  {  // cube
    OnnxBuilder b;
    b.initializer("three", {}, {3.f});
    b.node("Pow", "cube", {"image", "three"}, "logits");
    EXPECT_THROW(load_onnx_bytes(b.bytes("logits"), "bad"), std::runtime_error);
  }
  EXPECT_THROW(load_onnx_bytes("this is not protobuf", "garbage"), std::runtime_error);
  EXPECT_THROW(load_onnx("/nonexistent/model.onnx"), std::runtime_error);
}

// Conv + BatchNormalization: the loader folds BN into the conv; check against conv followed by explicit BN.
TEST(OnnxLoader, FoldsBatchNormIntoConv) {
  OnnxBuilder b;
  const auto w = ramp(18, -0.5f, 0.06f);
  b.initializer("w", {2, 1, 3, 3}, w);
  b.initializer("bias", {2}, {0.3f, -0.1f});
  b.initializer("gamma", {2}, {1.5f, 0.5f});
  b.initializer("beta", {2}, {-0.2f, 0.4f});
  b.initializer("mean", {2}, {0.1f, -0.3f});
  b.initializer("var", {2}, {2.0f, 0.25f});
  auto* c = b.node("Conv", "conv", {"image", "w", "bias"}, "conv.out");
  OnnxBuilder::ints(c, "pads", {1, 1, 1, 1});
  auto* bn = b.node("BatchNormalization", "bn", {"conv.out", "gamma", "beta", "mean", "var"}, "bn.out");
  OnnxBuilder::real(bn, "epsilon", 1e-5f);
  b.initializer("head", {1, 2, 1, 1}, {1.0f, 1.0f});
  b.node("Conv", "sum", {"bn.out", "head"}, "logits");
  const Model m = load_onnx_bytes(b.bytes("logits"), "bn");
  ASSERT_EQ(m.nodes.size(), 3u);
  EXPECT_EQ(m.nodes[1].name, "bn.out");

  Tensor x(1, 4, 4);
  for (std::size_t i = 0; i < x.size(); ++i) x.data[i] = std::cos(1.3 * static_cast<double>(i));
  const auto acts = forward(m, x);
  const double gamma[] = {1.5f, 0.5f}, beta[] = {-0.2f, 0.4f}, mean[] = {0.1f, -0.3f}, var[] = {2.0f, 0.25f};
  const double bias[] = {0.3f, -0.1f};
  const double eps = static_cast<double>(1e-5f);
  for (int o = 0; o < 2; ++o)
    for (int y = 0; y < 4; ++y)
      for (int xx = 0; xx < 4; ++xx) {
        double conv = bias[o];
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int sy = y + ky - 1, sx = xx + kx - 1;
            if (sy >= 0 && sy < 4 && sx >= 0 && sx < 4) conv += w[o * 9 + ky * 3 + kx] * x.at(0, sy, sx);
          }
        const double expected = gamma[o] * (conv - mean[o]) / std::sqrt(var[o] + eps) + beta[o];
        EXPECT_NEAR(acts[1].at(o, y, xx), expected, 1e-12);
      }
}


Tensor wave(int side) {
  Tensor x(1, side, side);
  for (std::size_t i = 0; i < x.size(); ++i) x.data[i] = std::sin(0.37 * static_cast<double>(i)) + 0.2;
  return x;
}

// torch writes AvgPool2d(2) as a zero-size Pad (pads from a Constant node) and an AveragePool.
TEST(OnnxLoader, ZeroPadBeforeAveragePoolIsTheIdentity) {
  auto build = [](std::int64_t pad) {
    OnnxBuilder b;
    auto* pads = b.node("Constant", "pads", {}, "pads.value");
    auto* value = pads->add_attribute();
    value->set_name("value_ints");
    value->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (int i = 0; i < 8; ++i) value->add_ints(i == 7 ? pad : 0);
    b.node("Pad", "pad", {"image", "pads.value"}, "padded");
    auto* pool = b.node("AveragePool", "pool", {"padded"}, "pooled");
    OnnxBuilder::ints(pool, "kernel_shape", {2, 2});
    OnnxBuilder::ints(pool, "strides", {2, 2});
    b.initializer("w", {1, 1, 1, 1}, {2.0f});
    b.node("Conv", "head", {"pooled", "w"}, "logits");
    return b.bytes("logits");
  };
  const Model m = load_onnx_bytes(build(0), "pad");
  ASSERT_EQ(m.nodes.size(), 3u);
  EXPECT_EQ(m.nodes[1].op, Op::AvgPool2x2);
  expect_error_mentions(build(1), {"'pad'", "non-zero padding", "AvgPool2d(2)"});
}

// c + (y * b) + a * y^2 with the square written as Pow, then BatchNormalization after the activation: one
// Quadratic node whose coefficients absorb the affine map.
TEST(OnnxLoader, QuadraticInAnyTermOrderAbsorbsTheAffineAfterIt) {
  OnnxBuilder b;
  b.initializer("w", {1, 1, 3, 3}, ramp(9, -0.3f, 0.07f));
  b.initializer("two", {}, {2.0f});
  b.initializer("a", {1, 1, 1, 1}, {0.25f});
  b.initializer("b", {1}, {1.5f});
  b.initializer("c", {}, {-0.5f});
  for (const char* bn : {"gamma", "beta", "mean", "var"}) b.initializer(bn, {1}, {bn[0] == 'v' ? 4.0f : 0.5f});
  auto* c = b.node("Conv", "conv", {"image", "w"}, "y");
  OnnxBuilder::ints(c, "pads", {1, 1, 1, 1});
  b.node("Mul", "by", {"y", "b"}, "by");
  b.node("Add", "c_by", {"c", "by"}, "c_by");
  b.node("Pow", "yy", {"y", "two"}, "yy");
  b.node("Mul", "ayy", {"a", "yy"}, "ayy");
  b.node("Add", "act", {"c_by", "ayy"}, "act");
  auto* bn = b.node("BatchNormalization", "bn", {"act", "gamma", "beta", "mean", "var"}, "bn.out");
  OnnxBuilder::real(bn, "epsilon", 0.0f);
  b.initializer("head", {1, 1, 1, 1}, {1.0f});
  b.node("Conv", "head", {"bn.out", "head"}, "logits");
  const Model m = load_onnx_bytes(b.bytes("logits"), "quad");
  ASSERT_EQ(m.nodes.size(), 4u);
  const Node& q = m.nodes[2];
  ASSERT_EQ(q.op, Op::Quadratic);
  EXPECT_EQ(q.name, "bn.out");
  const double s = 0.5 / std::sqrt(4.0), t = 0.5 - 0.5 * s;  // gamma / sqrt(var), beta - mean * s
  EXPECT_DOUBLE_EQ(q.a[0], 0.25 * s);
  EXPECT_DOUBLE_EQ(q.b[0], 1.5 * s);
  ASSERT_EQ(q.c.size(), 1u);
  EXPECT_DOUBLE_EQ(q.c[0], -0.5 * s + t);
  const auto acts = forward(m, wave(4));
  for (std::size_t i = 0; i < acts[1].size(); ++i) {
    const double y = acts[1].data[i];
    EXPECT_NEAR(acts[2].data[i], s * (0.25 * y * y + 1.5 * y - 0.5) + t, 1e-12);
  }
}

// A residual connection and a batch norm with no conv of its own before it (a per-channel affine node).
TEST(OnnxLoader, ResidualAddAndStandaloneBatchNorm) {
  OnnxBuilder b;
  b.initializer("w", {1, 1, 5, 5}, ramp(25, -0.2f, 0.02f));
  for (const char* bn : {"gamma", "beta", "mean", "var"}) b.initializer(bn, {1}, {bn[0] == 'v' ? 0.25f : 0.5f});
  auto* c = b.node("Conv", "conv5", {"image", "w"}, "y");
  OnnxBuilder::ints(c, "pads", {2, 2, 2, 2});
  b.node("Add", "residual", {"y", "image"}, "sum");
  b.node("BatchNormalization", "bn", {"sum", "gamma", "beta", "mean", "var"}, "bn.out");
  b.initializer("head", {1, 1, 1, 1}, {1.0f});
  b.node("Conv", "head", {"bn.out", "head"}, "logits");
  const Model m = load_onnx_bytes(b.bytes("logits"), "residual");
  ASSERT_EQ(m.nodes.size(), 5u);
  EXPECT_EQ(m.nodes[1].kernel, 5);
  EXPECT_EQ(m.nodes[2].op, Op::Add);
  EXPECT_EQ(m.nodes[2].inputs, (std::vector<int>{1, 0}));
  const Node& affine = m.nodes[3];
  EXPECT_EQ(affine.op, Op::Quadratic);
  EXPECT_EQ(affine.a[0], 0.0);
  const Tensor x = wave(8);
  const auto acts = forward(m, x);
  const double s = 0.5 / std::sqrt(0.25 + 1e-5), t = 0.5 - 0.5 * s;
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(acts[3].data[i], s * (acts[1].data[i] + x.data[i]) + t, 1e-12);
}

TEST(OnnxLoader, RefusalsSayWhatToUseInstead) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Sigmoid", "drop it"}, {"Softmax", "drop it"}, {"Resize", "ConvTranspose2d(kernel_size=2, stride=2)"},
      {"Tanh", "x*x"},        {"Erf", "quadratic"}};
  for (const auto& [op, advice] : cases) {
    OnnxBuilder b;
    b.node(op, "node_" + op, {"image"}, "logits");
    expect_error_mentions(b.bytes("logits"), {"node_" + op, op, "not HE-friendly", advice});
  }
  OnnxBuilder b;
  b.node("Mul", "product", {"image", "image"}, "sq");
  b.initializer("w", {1, 1, 1, 1}, {1.0f});
  b.node("Conv", "conv", {"image", "w"}, "y");
  b.node("Mul", "cross", {"sq", "y"}, "logits");
  expect_error_mentions(b.bytes("logits"), {"cross", "two different tensors"});
}

}  // namespace
}  // namespace cryptounet::nn
