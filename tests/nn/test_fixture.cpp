// The float64 reference against PyTorch: fixtures exported by train/export.py (input crop, logits, activations).
#include "nn/forward.h"
#include "nn/model_info.h"
#include "nn/onnx_loader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <string>

namespace cryptounet::nn {
namespace {

const std::string kRoot = CRYPTOUNET_SOURCE_DIR;

class PyTorchFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(PyTorchFixture, ForwardMatchesPyTorchWithin1e4) {
  const std::string name = GetParam();
  const Model model = load_onnx(kRoot + "/models/" + name + ".onnx");
  const ModelInfo info = ModelInfo::load(kRoot + "/models/" + name + ".json");
  EXPECT_EQ(info.tile % (1 << model.pooling_depth()), 0);
  std::ifstream in(kRoot + "/tests/data/" + name + "_fixture.json");
  ASSERT_TRUE(in) << "missing fixture for " << name;
  const auto fx = nlohmann::json::parse(in);
  const auto shape = fx.at("input_shape").get<std::vector<int>>();
  ASSERT_EQ(shape.size(), 4u);
  Tensor x(shape[1], shape[2], shape[3]);
  x.data = fx.at("input").get<std::vector<double>>();
  ASSERT_EQ(x.data.size(), x.size());

  const auto acts = forward(model, x);
  const auto expected = fx.at("output").get<std::vector<double>>();
  ASSERT_EQ(expected.size(), acts.back().size());
  double worst = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(acts.back().data[i] - expected[i]));
  EXPECT_LT(worst, 1e-4) << name << ": max |C++ - PyTorch| over the logits";

  // Per-layer activations (rounded to 7 significant digits in the fixture), matched by ONNX tensor name.
  int compared = 0;
  if (fx.contains("activations"))
    for (const auto& [tensor, values] : fx.at("activations").items()) {
      const int index = model.index_of(tensor);
      if (index < 0) continue;  // e.g. concatenations, which the fixture may record under another name
      const auto v = values.get<std::vector<double>>();
      ASSERT_EQ(v.size(), acts[index].size()) << tensor;
      for (std::size_t i = 0; i < v.size(); ++i)
        ASSERT_NEAR(acts[index].data[i], v[i], 1e-4 + 1e-6 * std::abs(v[i])) << tensor << "[" << i << "]";
      ++compared;
    }
  EXPECT_GE(compared, 10) << "too few activations matched node names";
}

INSTANTIATE_TEST_SUITE_P(Models, PyTorchFixture, ::testing::Values("unet_he", "unet_std"));

}  // namespace
}  // namespace cryptounet::nn
