// `cryptounet predict --plain`: the float64 plaintext reference on images or a DSB-layout folder; Dice/IoU when
// masks exist; optional mask and overlay PNGs.
#include "command.h"
#include "io/dataset.h"
#include "io/image_file.h"
#include "io/overlay.h"
#include "io/png.h"
#include "io/preprocess.h"
#include "nn/metrics.h"
#include "nn/predict.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace cryptounet;

struct PredictCliOptions {
  bool plain = false;
  std::string model = "models/unet_he.onnx";
  std::string info;  // sidecar; default next to the model
  std::string data;
  std::string split;
  std::vector<std::string> images;
  int limit = 0;
  int stride = 0;
  bool whole = false;
  bool json = false;
  std::string out;
};

std::vector<io::Sample> collect_samples(const PredictCliOptions& o) {
  if (!o.data.empty() && !o.images.empty()) throw std::invalid_argument("predict: give --data or image files, not both");
  std::vector<io::Sample> samples;
  if (!o.data.empty()) {
    std::optional<io::Split> split;
    if (!o.split.empty()) split = io::parse_split(o.split);
    samples = io::list_dataset(o.data, split);
  } else {
    if (!o.split.empty()) throw std::invalid_argument("predict: --split needs --data");
    for (const auto& path : o.images) {
      io::Sample s;
      s.id = fs::path(path).stem().string();
      s.image_path = path;
      // An image inside a DSB-layout folder (dir/images/<id>.png) is scored against dir/masks/<id>.png if present.
      const fs::path mask = fs::path(path).parent_path().parent_path() / "masks" / fs::path(path).filename();
      if (fs::path(path).parent_path().filename() == "images" && fs::is_regular_file(mask)) s.mask_path = mask.string();
      samples.push_back(std::move(s));
    }
  }
  if (samples.empty())
    throw std::invalid_argument("predict: no images" + (o.split.empty() ? std::string() : " in split " + o.split) +
                                " (give --data DIR or image files)");
  if (o.limit > 0 && samples.size() > static_cast<std::size_t>(o.limit)) samples.resize(o.limit);
  return samples;
}

void run_predict(const PredictCliOptions& o) {
  if (!o.plain)
    throw std::invalid_argument("predict: only the plaintext reference is implemented by this command; pass --plain");
  const nn::LoadedModel loaded = nn::LoadedModel::load(o.model, o.info);
  nn::PredictOptions popts;
  popts.tile = loaded.info.tile;
  popts.stride = o.stride > 0 ? o.stride : loaded.info.tile * 3 / 4;
  popts.whole_image = o.whole;
  const auto samples = collect_samples(o);
  if (!o.out.empty()) fs::create_directories(o.out);

  nlohmann::json per_image = nlohmann::json::array();
  double dice_sum = 0, iou_sum = 0, agreement_sum = 0;
  int scored = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& s : samples) {
    const auto t0 = std::chrono::steady_clock::now();
    const io::Image image = io::read_png(s.image_path);
    const io::Plane normalized = io::preprocess(image, loaded.info.normalization);
    const io::Plane logits = nn::predict_logits(loaded.model, normalized, popts);
    const io::Mask predicted = nn::threshold_logits(logits, loaded.info.threshold_logit);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    nlohmann::json entry = {{"id", s.id}, {"width", image.width}, {"height", image.height}, {"seconds", seconds}};
    std::optional<io::Mask> truth;
    if (!s.mask_path.empty()) {
      truth = io::read_mask(s.mask_path);
      const nn::SegmentationScores sc = nn::score_masks(predicted, *truth);
      entry["dice"] = sc.dice;
      entry["iou"] = sc.iou;
      entry["pixel_agreement"] = sc.pixel_agreement;
      dice_sum += sc.dice;
      iou_sum += sc.iou;
      agreement_sum += sc.pixel_agreement;
      ++scored;
      if (!o.json)
        fmt::print("{}  {}x{}  dice {:.4f}  iou {:.4f}  agree {:.4f}  {:.2f} s\n", s.id, image.width, image.height,
                   sc.dice, sc.iou, sc.pixel_agreement, seconds);
    } else if (!o.json) {
      fmt::print("{}  {}x{}  foreground {:.3f}  {:.2f} s\n", s.id, image.width, image.height,
                 static_cast<double>(std::count(predicted.pixels.begin(), predicted.pixels.end(), 1)) /
                     static_cast<double>(predicted.pixels.size()),
                 seconds);
    }
    if (!o.out.empty()) {
      io::write_mask((fs::path(o.out) / (s.id + "_mask.png")).string(), predicted);
      io::write_png((fs::path(o.out) / (s.id + "_overlay.png")).string(),
                    io::make_overlay(io::to_gray(image), predicted, truth ? &*truth : nullptr));
    }
    per_image.push_back(std::move(entry));
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json result = {{"model", loaded.model.name},
                           {"mode", o.whole ? "whole" : "tiled"},
                           {"tile", popts.tile},
                           {"stride", popts.stride},
                           {"images", samples.size()},
                           {"scored", scored},
                           {"seconds", total},
                           {"per_image", per_image}};
  if (!o.split.empty()) result["split"] = o.split;
  result["dice"] = scored ? nlohmann::json(dice_sum / scored) : nlohmann::json(nullptr);
  result["iou"] = scored ? nlohmann::json(iou_sum / scored) : nlohmann::json(nullptr);
  result["pixel_agreement"] = scored ? nlohmann::json(agreement_sum / scored) : nlohmann::json(nullptr);
  if (o.json) {
    fmt::print("{}\n", result.dump());
  } else if (scored) {
    fmt::print("{}: {} images, mean dice {:.4f}, mean iou {:.4f}, pixel agreement {:.4f} ({:.1f} s)\n",
               loaded.model.name, scored, dice_sum / scored, iou_sum / scored, agreement_sum / scored, total);
  } else {
    fmt::print("{}: {} images, no masks to score ({:.1f} s)\n", loaded.model.name, samples.size(), total);
  }
}

void setup_predict(CLI::App& root) {
  auto o = std::make_shared<PredictCliOptions>();
  CLI::App* cmd = root.add_subcommand("predict", "Segment images with the float64 plaintext reference (--plain)");
  cmd->add_flag("--plain", o->plain, "Plaintext float64 reference inference");
  cmd->add_option("--model", o->model, "ONNX model (its JSON sidecar is found next to it)")->check(CLI::ExistingFile);
  cmd->add_option("--info", o->info, "JSON sidecar, if not next to the model")->check(CLI::ExistingFile);
  cmd->add_option("--data", o->data, "DSB-layout folder (images/, masks/)")->check(CLI::ExistingDirectory);
  cmd->add_option("--split", o->split, "Only this split of --data (train, val, test; by sorted id)")
      ->check(CLI::IsMember({"train", "val", "test"}));
  cmd->add_option("images", o->images, "Image files (PNG)")->check(CLI::ExistingFile);
  cmd->add_option("--limit", o->limit, "At most K images")->check(CLI::NonNegativeNumber);
  cmd->add_option("--stride", o->stride, "Tile stride (default 3/4 of the tile)")->check(CLI::PositiveNumber);
  cmd->add_flag("--whole", o->whole, "Whole image in one pass instead of tiles");
  cmd->add_flag("--json", o->json, "Print one JSON object (dice, iou, images, per_image, ...)");
  cmd->add_option("-o,--out", o->out, "Write <id>_mask.png and <id>_overlay.png here");
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_predict);
