#include "nn/predict.h"

#include "io/preprocess.h"
#include "nn/forward.h"
#include "nn/onnx_loader.h"
#include "nn/tiling.h"

#include <filesystem>
#include <stdexcept>

namespace cryptounet::nn {

LoadedModel LoadedModel::load(const std::string& onnx_path, const std::string& json_path) {
  LoadedModel m;
  m.model = load_onnx(onnx_path);
  const int in = m.model.input().channels, out = m.model.output().channels;
  if (json_path.empty() && !std::filesystem::exists(ModelInfo::sidecar_path(onnx_path))) {
    m.info = ModelInfo::load_or_defaults(onnx_path);
    m.info.adopt_channels(in, out);
  } else {
    m.info = json_path.empty() ? ModelInfo::load(ModelInfo::sidecar_path(onnx_path)) : ModelInfo::load(json_path);
  }
  m.info.check_channels(in, out);
  return m;
}

Tensor preprocess(const io::Image& image, const ModelInfo& info) {
  return Tensor::from_planes(io::preprocess_channels(image, info.normalization));
}

Tensor predict_logits(const Model& model, const Tensor& normalized, const PredictOptions& options) {
  if (options.whole_image) {
    const int multiple = 1 << model.pooling_depth();
    const int h = (normalized.height + multiple - 1) / multiple * multiple;
    const int w = (normalized.width + multiple - 1) / multiple * multiple;
    // Zero padding at the bottom/right: 0 is the normalized image's mean.
    Tensor padded(normalized.channels, h, w);
    for (int c = 0; c < normalized.channels; ++c)
      for (int y = 0; y < normalized.height; ++y)
        for (int x = 0; x < normalized.width; ++x) padded.at(c, y, x) = normalized.at(c, y, x);
    const Tensor logits = forward_output(model, padded);
    Tensor out(logits.channels, normalized.height, normalized.width);
    for (int c = 0; c < out.channels; ++c)
      for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x) out.at(c, y, x) = logits.at(c, y, x);
    return out;
  }
  const TileGrid grid = make_tile_grid(normalized.width, normalized.height, options.tile, options.stride);
  return predict_tiled(normalized, grid, [&model](const Tensor& tile) { return forward_output(model, tile); });
}

io::Plane predict_logits(const Model& model, const io::Plane& normalized, const PredictOptions& options) {
  if (model.input().channels != 1 || model.output().channels != 1)
    throw std::invalid_argument("predict_logits: model '" + model.name + "' is not gray-in, 1-channel-out");
  return predict_logits(model, Tensor::from_plane(normalized), options).to_plane(0);
}

}  // namespace cryptounet::nn
