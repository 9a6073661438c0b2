// The model sidecar parser refuses every out-of-range or wrongly typed number with an error naming the field.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "nn/model_info.h"

namespace cryptounet::nn {
namespace {

void expect_refused(const std::string& json, const std::string& field) {
  try {
    (void)ModelInfo::parse(json);
    FAIL() << "accepted " << json;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(ModelInfo, ParsesIntegralFloatsAndDefaults) {
  const auto info = ModelInfo::parse(R"({"tile": 64.0, "levels": 23, "threshold_logit": -0.5})");
  EXPECT_EQ(info.tile, 64);
  EXPECT_EQ(info.levels, 23);
  EXPECT_EQ(info.threshold_logit, -0.5);
  EXPECT_EQ(ModelInfo::parse("{}").tile, 128);
}

// A float far outside int converted by nlohmann's get<int>() was undefined behaviour (found by fuzz_model).
TEST(ModelInfo, RefusesNumbersOutsideTheirRange) {
  expect_refused(R"({"tile": 7.8e103})", "tile");
  expect_refused(R"({"levels": 7.8e103})", "levels");
  expect_refused(R"({"format_version": -1e300})", "format_version");
  expect_refused(R"({"tile": 0})", "tile");
  expect_refused(R"({"tile": 12.5})", "tile");
  expect_refused(R"({"tile": 18446744073709551615})", "tile");
  expect_refused(R"({"levels": -1})", "levels");
  expect_refused(R"({"tile": "128"})", "tile");
  expect_refused(R"({"normalization": {"clip": "4"}})", "clip");
  expect_refused(R"({"activation_ranges": {"x": [2, 1]}})", "activation_ranges");
  expect_refused(R"({"activation_ranges": {"x": [0, "1"]}})", "activation_ranges");
}

}  // namespace
}  // namespace cryptounet::nn
