#include "nn/predict.h"

#include "nn/forward.h"
#include "nn/onnx_loader.h"
#include "nn/tiling.h"

namespace cryptounet::nn {

LoadedModel LoadedModel::load(const std::string& onnx_path, const std::string& json_path) {
  LoadedModel m;
  m.model = load_onnx(onnx_path);
  m.info = json_path.empty() ? ModelInfo::load_or_defaults(onnx_path) : ModelInfo::load(json_path);
  return m;
}

io::Plane predict_logits(const Model& model, const io::Plane& normalized, const PredictOptions& options) {
  if (options.whole_image) {
    const int multiple = 1 << model.pooling_depth();
    const int h = (normalized.height + multiple - 1) / multiple * multiple;
    const int w = (normalized.width + multiple - 1) / multiple * multiple;
    // Zero padding at the bottom/right: 0 is the normalized image's mean.
    Tensor padded(1, h, w);
    for (int y = 0; y < normalized.height; ++y)
      for (int x = 0; x < normalized.width; ++x) padded.at(0, y, x) = normalized.at(y, x);
    const Tensor logits = forward_output(model, padded);
    io::Plane out(normalized.width, normalized.height);
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) out.at(y, x) = logits.at(0, y, x);
    return out;
  }
  const TileGrid grid = make_tile_grid(normalized.width, normalized.height, options.tile, options.stride);
  return predict_tiled(normalized, grid, [&model](const Tensor& tile) { return forward_output(model, tile); });
}

}  // namespace cryptounet::nn
