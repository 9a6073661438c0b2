// Models written and exported the ordinary way (tests/nn/onnx_zoo.py: torch.onnx.export, opsets 13 and 17) load and
// match PyTorch's float64 output to 1e-6; the non-HE-friendly ones are refused naming the op and its replacement.
// Run by tests/nn/onnx_zoo.sh, which exports the zoo first.
#include "nn/forward.h"
#include "nn/onnx_loader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

namespace cryptounet::nn {
namespace {

TEST(OnnxZoo, PyTorchExportsLoadAndMatchWithin1e6) {
  const char* dir = std::getenv("CRYPTOUNET_ONNX_ZOO");
  if (!dir) GTEST_SKIP() << "run by tests/nn/onnx_zoo.sh";
  std::ifstream in(std::string(dir) + "/manifest.json");
  ASSERT_TRUE(in) << "no manifest.json in " << dir;
  const auto manifest = nlohmann::json::parse(in);
  int matched = 0, refused = 0;
  for (const auto& entry : manifest) {
    const std::string file = std::string(dir) + "/" + entry.at("file").get<std::string>();
    SCOPED_TRACE(file);
    if (entry.contains("error_words")) {
      try {
        load_onnx(file);
        ADD_FAILURE() << "loaded a model that must be refused";
      } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        for (const auto& word : entry.at("error_words")) EXPECT_NE(what.find(word.get<std::string>()), std::string::npos) << what;
        ++refused;
      }
      continue;
    }
    Model model;
    try {
      model = load_onnx(file);
    } catch (const std::runtime_error& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    const auto shape = entry.at("input_shape").get<std::vector<int>>();
    ASSERT_EQ(shape.size(), 4u);
    Tensor x(shape[1], shape[2], shape[3]);
    x.data = entry.at("input").get<std::vector<double>>();
    ASSERT_EQ(x.data.size(), x.size());
    const Tensor y = forward_output(model, x);
    const auto expected = entry.at("output").get<std::vector<double>>();
    ASSERT_EQ(y.size(), expected.size());
    double worst = 0, largest = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      worst = std::max(worst, std::abs(y.data[i] - expected[i]));
      largest = std::max(largest, std::abs(expected[i]));
    }
    EXPECT_LT(worst, 1e-6) << "max |C++ - PyTorch| (largest |logit| " << largest << ")";
    ++matched;
  }
  EXPECT_GE(matched, 20);
  EXPECT_GE(refused, 6);
}

}  // namespace
}  // namespace cryptounet::nn
