// The float64 reference against PyTorch: fixtures exported by train/export.py (input crop, logits, activations).
#include "nn/forward.h"
#include "nn/model_info.h"
#include "nn/onnx_loader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

namespace cryptounet::nn {
namespace {

const std::string kRoot = CRYPTOUNET_SOURCE_DIR;

// Loads <models_dir>/<name>.onnx and its sidecar, runs the fixture's input crop and compares with PyTorch.
void expect_matches_fixture(const std::string& models_dir, const std::string& fixture_dir, const std::string& name,
                            int min_layers_compared) {
  const Model model = load_onnx(models_dir + "/" + name + ".onnx");
  const ModelInfo info = ModelInfo::load(models_dir + "/" + name + ".json");
  EXPECT_EQ(info.tile % (1 << model.pooling_depth()), 0);
  std::ifstream in(fixture_dir + "/" + name + "_fixture.json");
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
  EXPECT_GE(compared, min_layers_compared) << "too few activations matched node names";
}

class PyTorchFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(PyTorchFixture, ForwardMatchesPyTorchWithin1e4) {
  expect_matches_fixture(kRoot + "/models", kRoot + "/tests/data", GetParam(), 10);
}

// A model trained moments ago by tests/train/smoke.sh (train.py -> ONNX + sidecar + fixture); skipped when run alone.
TEST(FreshlyTrainedModel, ForwardMatchesPyTorchWithin1e4) {
  const char* models_dir = std::getenv("CRYPTOUNET_TRAINED_MODELS");
  const char* fixture_dir = std::getenv("CRYPTOUNET_TRAINED_FIXTURES");
  const char* name = std::getenv("CRYPTOUNET_TRAINED_NAME");
  if (!models_dir || !fixture_dir || !name) GTEST_SKIP() << "run by tests/train/smoke.sh";
  expect_matches_fixture(models_dir, fixture_dir, name, 4);  // depth 1: fewer layers
}

INSTANTIATE_TEST_SUITE_P(Models, PyTorchFixture, ::testing::Values("unet_he", "unet_std", "unet_he_core"));

}  // namespace
}  // namespace cryptounet::nn
