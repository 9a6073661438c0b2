// The model sidecar: the parser refuses every out-of-range or wrongly typed number with an error naming the field;
// to_json reads back equal; a model without a sidecar gets the defaults.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "nn/model_info.h"

#include <nlohmann/json.hpp>

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

TEST(ModelInfo, ToJsonReadsBackEqual) {
  ModelInfo info;
  info.name = "m";
  info.tile = 64;
  info.normalization.clip = 3.5;
  info.threshold_logit = -0.25;
  info.levels = 11;
  info.activation = "quadratic";
  info.activation_ranges = {{"image", {-4.0, 4.0}}, {"enc0.conv", {-1.5, 2.25}}};
  const ModelInfo back = ModelInfo::parse(info.to_json().dump());
  EXPECT_EQ(back.name, info.name);
  EXPECT_EQ(back.tile, info.tile);
  EXPECT_EQ(back.normalization.clip, info.normalization.clip);
  EXPECT_EQ(back.normalization.min_std, info.normalization.min_std);
  EXPECT_EQ(back.threshold_logit, info.threshold_logit);
  EXPECT_EQ(back.levels, info.levels);
  EXPECT_EQ(back.activation, info.activation);
  EXPECT_EQ(back.activation_ranges, info.activation_ranges);
}

// The output kind names what the logit channels mean; the channel counts must agree with the model's.
TEST(ModelInfo, OutputKindsAndChannels) {
  EXPECT_EQ(ModelInfo::parse("{}").output, OutputKind::Mask);
  EXPECT_EQ(ModelInfo::parse("{}").output_channels, 1);
  const auto contour = ModelInfo::parse(R"({"output": "mask+contour"})");
  EXPECT_EQ(contour.output, OutputKind::MaskContour);
  EXPECT_EQ(contour.output_channels, 2);
  const auto classes = ModelInfo::parse(R"({"output": "classes", "output_channels": 3,
                                            "normalization": {"color": "rgb"}})");
  EXPECT_EQ(classes.output, OutputKind::Classes);
  EXPECT_EQ(classes.output_channels, 3);
  EXPECT_EQ(classes.normalization.channels(), 3);
  EXPECT_NO_THROW(classes.check_channels(3, 3));
  EXPECT_THROW(classes.check_channels(1, 3), std::runtime_error);
  EXPECT_THROW(classes.check_channels(3, 2), std::runtime_error);
  expect_refused(R"({"output": "classes"})", "output_channels");
  expect_refused(R"({"output": "classes", "output_channels": 1})", "output_channels");
  expect_refused(R"({"output": "mask", "output_channels": 2})", "output_channels");
  expect_refused(R"({"output": "softmax"})", "softmax");
  expect_refused(R"({"output": 3})", "output");
  expect_refused(R"({"normalization": {"color": "cmyk"}})", "cmyk");
  expect_refused(R"({"normalization": {"color": "rgb", "method": "fixed", "mean": [0.5, 0.5], "std": [1, 1, 1]}})",
                 "mean");
  expect_refused(R"({"normalization": {"method": "fixed", "mean": [0.5], "std": [0]}})", "std");

  ModelInfo info;
  info.normalization.color = io::Normalization::Color::Rgb;
  info.normalization.method = io::Normalization::Method::Fixed;
  info.normalization.mean = {0.4, 0.5, 0.6};
  info.normalization.stddev = {0.2, 0.25, 0.3};
  info.output = OutputKind::Classes;
  info.output_channels = 4;
  const ModelInfo back = ModelInfo::parse(info.to_json().dump());
  EXPECT_EQ(back.normalization.color, info.normalization.color);
  EXPECT_EQ(back.normalization.method, info.normalization.method);
  EXPECT_EQ(back.normalization.mean, info.normalization.mean);
  EXPECT_EQ(back.normalization.stddev, info.normalization.stddev);
  EXPECT_EQ(back.output, OutputKind::Classes);
  EXPECT_EQ(back.output_channels, 4);

  ModelInfo defaults;
  defaults.adopt_channels(3, 5);
  EXPECT_EQ(defaults.normalization.color, io::Normalization::Color::Rgb);
  EXPECT_EQ(defaults.output, OutputKind::Classes);
  EXPECT_EQ(defaults.output_channels, 5);
  defaults.adopt_channels(1, 1);
  EXPECT_EQ(defaults.output, OutputKind::Mask);
}

// The instance split follows the output kind unless the sidecar's "instances" names another; a seeded split needs
// the output that has its channel, and its threshold is a probability.
TEST(ModelInfo, InstancesFollowTheOutputKind) {
  EXPECT_EQ(ModelInfo::parse("{}").instances.method, InstanceMethod::Watershed);
  EXPECT_EQ(ModelInfo::parse(R"({"output": "mask+contour"})").instances.method, InstanceMethod::Contour);
  const auto core = ModelInfo::parse(R"({"output": "mask+core",
      "instances": {"method": "core", "seed_above": 0.6, "min_area": 12}})");
  EXPECT_EQ(core.output, OutputKind::MaskCore);
  EXPECT_EQ(core.output_channels, 2);
  EXPECT_EQ(core.instances.method, InstanceMethod::Core);
  EXPECT_EQ(core.instances.seed_threshold, 0.6);
  EXPECT_EQ(core.instances.min_area, 12);
  const ModelInfo back = ModelInfo::parse(core.to_json().dump());
  EXPECT_EQ(back.instances.method, InstanceMethod::Core);
  EXPECT_EQ(back.instances.seed_threshold, 0.6);
  EXPECT_EQ(back.instances.min_area, 12);
  EXPECT_EQ(back.instances.h, core.instances.h);
  EXPECT_EQ(ModelInfo::parse(R"({"output": "mask+contour", "instances": {"seed_below": 0.3}})").instances.seed_threshold,
            0.3);
  const auto watershed = ModelInfo::parse(R"({"output": "mask+core",
      "instances": {"method": "watershed", "seed_above": 0.2}})");
  EXPECT_EQ(watershed.instances.method, InstanceMethod::Watershed);
  EXPECT_EQ(watershed.instances.seed_threshold, 0.2);  // kept for a core split asked for on the command line
  EXPECT_EQ(ModelInfo::parse(watershed.to_json().dump()).instances.seed_threshold, 0.2);
  expect_refused(R"({"instances": {"method": "core"}})", "does not fit");
  expect_refused(R"({"output": "mask+contour", "instances": {"method": "core"}})", "does not fit");
  expect_refused(R"({"output": "mask+core", "instances": {"seed_above": 1.5}})", "seed_above");
  expect_refused(R"({"instances": {"method": "blobs"}})", "blobs");
  expect_refused(R"({"instances": {"min_area": 1e40}})", "min_area");
  expect_refused(R"({"instances": []})", "instances");
  ModelInfo defaults;
  defaults.adopt_channels(1, 2);
  EXPECT_EQ(defaults.instances.method, InstanceMethod::Watershed);
}

TEST(ModelInfo, DefaultsWithoutASidecar) {
  const ModelInfo info = ModelInfo::load_or_defaults("/nonexistent/dir/my_net.onnx");
  EXPECT_EQ(info.name, "my_net");
  EXPECT_EQ(info.tile, 128);
  EXPECT_EQ(info.threshold_logit, 0.0);
  EXPECT_TRUE(info.activation_ranges.empty());
  EXPECT_EQ(ModelInfo::load_or_defaults(std::string(CRYPTOUNET_SOURCE_DIR) + "/models/unet_he.onnx").name, "unet_he");
}

}  // namespace
}  // namespace cryptounet::nn
