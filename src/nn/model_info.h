// A model's metadata, from its JSON sidecar (models/<name>.json, the model hand-off contract).
#pragma once

#include "io/preprocess.h"
#include "nn/instances.h"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <string>
#include <utility>

namespace cryptounet::nn {

// What the model's logit channels mean (sidecar "output"), channel order included.
enum class OutputKind {
  Mask,          // "mask": 1 channel, foreground where logit > threshold_logit
  Classes,       // "classes": K >= 2 channels, one per class id 0..K-1, the label is the argmax
  MaskContour,   // "mask+contour": 2 channels, 0 the nucleus logit, 1 the nucleus-boundary logit
  MaskCore,      // "mask+core": 2 channels, 0 the nucleus logit, 1 the nucleus-core logit (each nucleus eroded)
};
const char* output_kind_name(OutputKind kind);

struct ModelInfo {
  std::string name;
  int tile = 128;
  io::Normalization normalization;
  double threshold_logit = 0.0;
  OutputKind output = OutputKind::Mask;
  int output_channels = 1;           // K: 1 for "mask", 2 for "mask+contour"/"mask+core", the class count for "classes"
  // How nuclei become objects (sidecar "instances": method, seed_below/seed_above, min_area, marker_height). Default:
  // the split the output kind's channel 1 drives (contour, core), else the watershed of the mask.
  InstanceOptions instances;
  int levels = 0;                    // multiplicative levels the model needs (0 if not given)
  std::string activation;            // "quadratic" | "square" | "relu"
  std::string pool;                  // "avg" | "max"
  std::map<std::string, std::pair<double, double>> activation_ranges;  // ONNX tensor name -> [min, max]

  static ModelInfo load(const std::string& json_path);
  static ModelInfo parse(const std::string& json_text);
  // The sidecar next to the model if there is one, else the defaults above (name = the file's stem): a model
  // exported without a sidecar runs with 128-pixel tiles, the standard normalization and threshold 0.
  static ModelInfo load_or_defaults(const std::string& onnx_path);
  // The sidecar fields this struct holds (format_version 1); parse(to_json().dump()) gives back an equal ModelInfo.
  nlohmann::json to_json() const;
  // models/unet_he.onnx -> models/unet_he.json
  static std::string sidecar_path(const std::string& onnx_path);
  // The defaults for a model without a sidecar: its input channels pick gray or RGB, its output channels "mask"
  // (1) or "classes" (K >= 2).
  void adopt_channels(int input_channels, int model_output_channels);
  // Throws unless the model's input and output channel counts are the ones this sidecar describes.
  void check_channels(int input_channels, int model_output_channels) const;
};

}  // namespace cryptounet::nn
