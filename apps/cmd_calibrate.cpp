// cryptounet calibrate --model M --data DIR -o M.json: runs the float64 reference over real images, tiled as the
// encrypted path tiles them, and records every tensor's activation range (widened by a margin) in the sidecar.
// An existing sidecar keeps its other fields; without one, the defaults (ModelInfo::load_or_defaults) are written.
#include "command.h"
#include "io/dataset.h"
#include "io/png.h"
#include "nn/forward.h"
#include "nn/model_info.h"
#include "nn/predict.h"
#include "nn/tiling.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

using namespace cryptounet;

struct CalibrateOptions {
  std::string model;
  std::string data;
  std::string split = "train";
  int limit = 0;
  int tile = 0;  // 0: the sidecar's (or default) tile
  double margin = 0.1;
  std::string out;
};

void run_calibrate(const CalibrateOptions& o) {
  if (!(o.margin >= 0 && o.margin <= 10)) throw std::invalid_argument("calibrate: --margin must be in [0, 10]");
  nn::LoadedModel loaded = nn::LoadedModel::load(o.model);
  const nn::Model& model = loaded.model;
  nn::ModelInfo& info = loaded.info;
  if (o.tile > 0) info.tile = o.tile;
  if (info.tile % (1 << model.pooling_depth()) != 0)
    throw std::invalid_argument(fmt::format("calibrate: tile {} is not a multiple of 2^{}", info.tile,
                                            model.pooling_depth()));
  std::optional<io::Split> split;
  if (o.split != "all") split = io::parse_split(o.split);
  auto samples = io::list_dataset(o.data, split);
  if (o.limit > 0 && samples.size() > static_cast<std::size_t>(o.limit)) samples.resize(o.limit);
  if (samples.empty()) throw std::invalid_argument("calibrate: no images in split " + o.split);

  // Whole tiles, zero padding included: the ciphertexts hold every slot of a tile.
  std::vector<std::pair<double, double>> ranges(model.nodes.size(), {std::numeric_limits<double>::infinity(),
                                                                    -std::numeric_limits<double>::infinity()});
  std::size_t tiles = 0;
  for (const auto& sample : samples) {
    const nn::Tensor image = nn::preprocess(io::read_png(sample.image_path), info);
    const nn::TileGrid grid = nn::make_tile_grid(image.width, image.height, info.tile, info.tile * 3 / 4);
    for (const nn::Tensor& tile : nn::extract_tiles(image, grid)) {
      const auto acts = nn::forward(model, tile);
      for (std::size_t i = 0; i < acts.size(); ++i) {
        const auto [lo, hi] = std::minmax_element(acts[i].data.begin(), acts[i].data.end());
        ranges[i].first = std::min(ranges[i].first, *lo);
        ranges[i].second = std::max(ranges[i].second, *hi);
      }
      ++tiles;
    }
  }
  info.activation_ranges.clear();
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    const auto [lo, hi] = ranges[i];
    const double widen = o.margin * std::max(hi - lo, std::max(std::abs(lo), std::abs(hi)));
    info.activation_ranges[model.nodes[i].name] = {lo - widen, hi + widen};
  }

  // Keep what an existing sidecar says beyond ModelInfo (architecture, metrics, training); replace the ranges.
  nlohmann::json sidecar = info.to_json();
  const std::string existing = nn::ModelInfo::sidecar_path(o.model);
  if (std::filesystem::exists(existing)) {
    std::ifstream in(existing);
    nlohmann::json original = nlohmann::json::parse(in);
    original["activation_ranges"] = sidecar["activation_ranges"];
    original["tile"] = info.tile;
    sidecar = std::move(original);
  }
  const std::string out = o.out.empty() ? existing : o.out;
  std::ofstream file(out);
  if (!file) throw std::runtime_error("calibrate: cannot write '" + out + "'");
  file << sidecar.dump(2) << "\n";
  if (!file) throw std::runtime_error("calibrate: write failed for '" + out + "'");
  nn::ModelInfo::load(out);  // what was written must read back
  fmt::print("calibrated {} tensors over {} images ({} tiles of {}x{}, margin {}) -> {}\n", model.nodes.size(),
             samples.size(), tiles, info.tile, info.tile, o.margin, out);
}

void setup_calibrate(CLI::App& root) {
  auto opts = std::make_shared<CalibrateOptions>();
  auto* cmd = root.add_subcommand("calibrate", "Record per-tensor activation ranges over real images into the sidecar");
  cmd->add_option("--model", opts->model, "ONNX model")->required();
  cmd->add_option("--data", opts->data, "DSB-layout folder (images/<id>.png)")->required();
  cmd->add_option("--split", opts->split, "train | val | test | all")->capture_default_str();
  cmd->add_option("--limit", opts->limit, "At most this many images (0: all)");
  cmd->add_option("--tile", opts->tile, "Tile side (default: the sidecar's, else 128)");
  cmd->add_option("--margin", opts->margin, "Widen each range by this fraction of max(width, |end|)")
      ->capture_default_str();
  cmd->add_option("-o,--out", opts->out, "Sidecar to write (default: the one next to the model)");
  cmd->callback([opts] { run_calibrate(*opts); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_calibrate);
