// `cryptounet predict --plain`: the float64 plaintext reference on images or a DSB-layout folder (PNG or TIFF);
// Dice/IoU when masks exist; nuclei as instances, scored with the DSB mean average precision when labels exist;
// optional mask, label, per-nucleus CSV and overlay files, and an HTML report.
#include "command.h"
#include "report_panels.h"
#include "henn/resources.h"
#include "io/dataset.h"
#include "io/image_file.h"
#include "io/overlay.h"
#include "io/preprocess.h"
#include "io/report.h"
#include "io/volume_masks.h"
#include "nn/instances.h"
#include "nn/metrics.h"
#include "nn/output_decoding.h"
#include "nn/predict.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
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
  std::string report;  // HTML page; empty: none
  std::string format = "png";  // of the mask and label files written to `out`
  std::string instances;  // empty: the sidecar's method
  std::optional<double> marker_height;
  std::optional<int> min_area;
  int axis = io::kAxialAxis;  // NIfTI volumes are cut perpendicular to it
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
    samples = io::samples_from_files(o.images, o.axis);
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
  nn::InstanceOptions instance_options = loaded.info.instances;
  if (!o.instances.empty()) instance_options.method = nn::parse_instance_method(o.instances);
  if (o.marker_height) instance_options.h = *o.marker_height;
  if (o.min_area) instance_options.min_area = *o.min_area;
  const std::string method = nn::instance_method_name(instance_options.method);
  const std::string ext = o.format == "tiff" ? ".tif" : ".png";
  io::VolumeMasks volumes(o.images, o.axis);

  nlohmann::json per_image = nlohmann::json::array();
  double dice_sum = 0, iou_sum = 0, agreement_sum = 0, ap_sum = 0;
  int scored = 0, instance_scored = 0;
  io::Report report;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& s : samples) {
    const auto t0 = std::chrono::steady_clock::now();
    const io::Image image = io::read_image(s.image_path, s.page, o.axis);
    const nn::Tensor logits = nn::predict_logits(loaded.model, nn::preprocess(image, loaded.info), popts);
    const io::Mask predicted = nn::foreground_mask(logits, loaded.info);
    const io::LabelImage nuclei = nn::nuclei_labels(logits, loaded.info, instance_options);
    const std::vector<nn::Instance> measured = nn::measure_instances(nuclei);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    nlohmann::json entry = {{"id", s.id},           {"width", image.width},    {"height", image.height},
                            {"seconds", seconds}, {"count", measured.size()}};
    std::string ap_text;
    io::ReportScores scores;
    scores.nuclei_plain = static_cast<long>(measured.size());
    std::optional<io::LabelImage> true_nuclei;
    if (!s.label_path.empty()) {
      true_nuclei = io::read_labels(s.label_path, s.page);
      const double ap = nn::dsb_average_precision(nuclei, *true_nuclei);
      const std::size_t true_count = nn::measure_instances(*true_nuclei).size();
      entry["ap"] = ap;
      entry["true_count"] = true_count;
      scores.ap_plain = ap;
      scores.nuclei_true = static_cast<long>(true_count);
      ap_sum += ap;
      ++instance_scored;
      ap_text = fmt::format("  ap {:.4f}", ap);
    }
    std::optional<io::Mask> truth;
    if (!s.mask_path.empty()) {
      truth = io::read_mask(s.mask_path, s.page);
      const nn::SegmentationScores sc = nn::score_masks(predicted, *truth);
      entry["dice"] = sc.dice;
      entry["iou"] = sc.iou;
      entry["pixel_agreement"] = sc.pixel_agreement;
      scores.dice_plain = sc.dice;
      scores.iou_plain = sc.iou;
      dice_sum += sc.dice;
      iou_sum += sc.iou;
      agreement_sum += sc.pixel_agreement;
      ++scored;
      if (!o.json)
        fmt::print("{}  {}x{}  dice {:.4f}  iou {:.4f}  agree {:.4f}{}  nuclei {}  {:.2f} s\n", s.id, image.width,
                   image.height, sc.dice, sc.iou, sc.pixel_agreement, ap_text, measured.size(), seconds);
    } else if (!o.json) {
      fmt::print("{}  {}x{}  foreground {:.3f}{}  nuclei {}  {:.2f} s\n", s.id, image.width, image.height,
                 static_cast<double>(std::count(predicted.pixels.begin(), predicted.pixels.end(), 1)) /
                     static_cast<double>(predicted.pixels.size()),
                 ap_text, measured.size(), seconds);
    }
    if (!o.out.empty()) {
      const fs::path out(o.out);
      io::write_mask((out / (s.id + "_mask" + ext)).string(), predicted);
      volumes.add(s.id, predicted);
      io::write_labels((out / (s.id + "_labels" + ext)).string(), nuclei);
      std::ofstream csv(out / (s.id + "_nuclei.csv"));
      csv << nn::instances_csv(measured);
      if (!csv.flush()) throw std::runtime_error("cannot write '" + (out / (s.id + "_nuclei.csv")).string() + "'");
      io::write_image((out / (s.id + "_overlay.png")).string(),
                    io::make_overlay(io::to_gray(image), predicted, truth ? &*truth : nullptr));
    }
    if (!o.report.empty()) {
      std::vector<app::Segmentation> shown = {{"plaintext reference", nuclei}};
      if (true_nuclei) shown.push_back({"ground truth", *true_nuclei});
      else if (truth) shown.push_back({"ground truth (mask)", app::mask_as_labels(*truth)});
      report.images.push_back(app::report_image(s.id, image, shown, scores));
      report.chart.push_back({s.id, seconds});
    }
    per_image.push_back(std::move(entry));
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.out.empty())
    for (const std::string& path : volumes.write(o.out))
      if (!o.json) fmt::print("{}\n", path);

  nlohmann::json result = {{"model", loaded.model.name},
                           {"mode", o.whole ? "whole" : "tiled"},
                           {"tile", popts.tile},
                           {"stride", popts.stride},
                           {"images", samples.size()},
                           {"scored", scored},
                           {"instances", method},
                           {"seconds", total},
                           {"per_image", per_image}};
  if (!o.split.empty()) result["split"] = o.split;
  result["dice"] = scored ? nlohmann::json(dice_sum / scored) : nlohmann::json(nullptr);
  result["iou"] = scored ? nlohmann::json(iou_sum / scored) : nlohmann::json(nullptr);
  result["pixel_agreement"] = scored ? nlohmann::json(agreement_sum / scored) : nlohmann::json(nullptr);
  result["map"] = instance_scored ? nlohmann::json(ap_sum / instance_scored) : nlohmann::json(nullptr);
  if (!o.report.empty()) {
    report.title = "cryptounet predict: plaintext segmentation" + (o.data.empty() ? std::string() : " of " + o.data);
    report.facts = {{"model", loaded.model.name},
                    {"mode", fmt::format("{}, tile {}, stride {}, float64 plaintext reference",
                                         o.whole ? "whole image" : "tiled", popts.tile, popts.stride)},
                    {"nuclei", method},
                    {"time", fmt::format("{:.2f} s for {} images", total, samples.size())}};
    if (!o.split.empty()) report.facts.emplace_back("split", o.split);
    report.chart_title = "Plaintext inference time per image";
    report.peak_rss_mb = henn::peak_rss_mb();
    io::write_report(o.report, report);
  }
  if (o.json) {
    fmt::print("{}\n", result.dump());
  } else if (scored) {
    fmt::print("{}: {} images, mean dice {:.4f}, mean iou {:.4f}, pixel agreement {:.4f}{} ({:.1f} s)\n",
               loaded.model.name, scored, dice_sum / scored, iou_sum / scored, agreement_sum / scored,
               instance_scored ? fmt::format(", mAP {:.4f} ({})", ap_sum / instance_scored, method) : "",
               total);
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
  cmd->add_option("--data", o->data, "DSB-layout folder (images/, masks/, labels/; PNG or TIFF)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--split", o->split, "Only this split of --data (train, val, test; by sorted id)")
      ->check(CLI::IsMember({"train", "val", "test"}));
  cmd->add_option("images", o->images,
                  "Image files (PNG, TIFF, DICOM, NIfTI; a TIFF stack, DICOM multi-frame object or NIfTI volume is "
                  "one image per page, frame or slice)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--axis", o->axis,
                  "NIfTI volumes: slice perpendicular to voxel axis 0, 1 or 2 (default: the axial axis by the affine)")
      ->check(CLI::Range(0, 2));
  cmd->add_option("--limit", o->limit, "At most K images")->check(CLI::NonNegativeNumber);
  cmd->add_option("--stride", o->stride, "Tile stride (default 3/4 of the tile)")->check(CLI::PositiveNumber);
  cmd->add_flag("--whole", o->whole, "Whole image in one pass instead of tiles");
  cmd->add_option("--instances", o->instances,
                  "Nuclei as objects (default: the sidecar's): watershed (touching nuclei split by the distance "
                  "transform), components (8-connected only), contour or core (split along the model's boundary or "
                  "core channel)")
      ->check(CLI::IsMember({"watershed", "components", "contour", "core"}));
  cmd->add_option("--marker-height", o->marker_height,
                  "Watershed: a distance peak this many pixels above its saddle seeds its own nucleus")
      ->check(CLI::Range(0.0, 1000.0));
  cmd->add_option("--min-area", o->min_area, "Drop nuclei below this many pixels")
      ->check(CLI::Range(0, 1 << 28));
  cmd->add_flag("--json", o->json, "Print one JSON object (dice, iou, map, images, per_image, ...)");
  cmd->add_option("-o,--out", o->out,
                  "Write <id>_mask, <id>_labels (16-bit nuclei), <id>_nuclei.csv and <id>_overlay.png here; a NIfTI "
                  "input also as <stem>_mask.nii.gz (its header and affine), a DICOM input as <stem>_seg.dcm (DICOM "
                  "Segmentation; only DICOM inputs give one)");
  cmd->add_option("--report", o->report, "Write one self-contained HTML page: images, nuclei, scores, times");
  cmd->add_option("--format", o->format, "Mask and label files: png or tiff")->check(CLI::IsMember({"png", "tiff"}));
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_predict);
