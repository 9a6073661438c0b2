// Plaintext prediction on a whole preprocessed image: tiled like the encrypted path, or fully convolutional.
#pragma once

#include "io/image.h"
#include "nn/model.h"
#include "nn/model_info.h"

#include <string>

namespace cryptounet::nn {

// A model with its sidecar metadata.
struct LoadedModel {
  Model model;
  ModelInfo info;

  // json_path empty: the sidecar next to the .onnx (models/x.onnx -> models/x.json) if there is one, else defaults.
  static LoadedModel load(const std::string& onnx_path, const std::string& json_path = "");
};

struct PredictOptions {
  int tile = 128;            // model tile side (ModelInfo::tile)
  int stride = 96;           // tile stride: overlap = tile - stride
  bool whole_image = false;  // one pass over the image zero-padded to a multiple of 2^depth (as train/ evaluates)
};

// Logit map of a preprocessed (normalized) image, image-sized.
io::Plane predict_logits(const Model& model, const io::Plane& normalized, const PredictOptions& options);

}  // namespace cryptounet::nn
