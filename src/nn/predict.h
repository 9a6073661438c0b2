// Plaintext prediction on a whole preprocessed image: tiled like the encrypted path, or fully convolutional.
#pragma once

#include "io/image.h"
#include "nn/model.h"
#include "nn/model_info.h"
#include "nn/tensor.h"

#include <string>

namespace cryptounet::nn {

// A model with its sidecar metadata, whose channel counts agree (ModelInfo::check_channels).
struct LoadedModel {
  Model model;
  ModelInfo info;

  // json_path empty: the sidecar next to the .onnx (models/x.onnx -> models/x.json) if there is one, else defaults
  // that follow the model's channels (ModelInfo::adopt_channels).
  static LoadedModel load(const std::string& onnx_path, const std::string& json_path = "");
};

struct PredictOptions {
  int tile = 128;            // model tile side (ModelInfo::tile)
  int stride = 96;           // tile stride: overlap = tile - stride
  bool whole_image = false;  // one pass over the image zero-padded to a multiple of 2^depth (as train/ evaluates)
};

// The model's input for an image: io::preprocess_channels as the sidecar's normalization says, C x H x W.
Tensor preprocess(const io::Image& image, const ModelInfo& info);

// Per-pixel logits K x H x W (the model's output channels, in order) of a preprocessed C x H x W image, after
// tiling and stitching (or in one pass with whole_image).
Tensor predict_logits(const Model& model, const Tensor& normalized, const PredictOptions& options);

// The logit map of a gray, 1-channel-output model (throws for any other).
io::Plane predict_logits(const Model& model, const io::Plane& normalized, const PredictOptions& options);

}  // namespace cryptounet::nn
