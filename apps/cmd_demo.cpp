// `cryptounet demo`: the whole client/server pipeline in one process on the bundled images and model — plan and
// keygen, encrypt, encrypted inference (evaluation keys only), decrypt — against the float64 plaintext reference
// on the same tiles: Dice of both against the ground truth, pixel agreement, time per phase, peak memory, overlays,
// and optionally one HTML page with all of it.
#include "command.h"
#include "demo_mri.h"
#include "plan_cli.h"
#include "report_panels.h"
#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/compare.h"
#include "henn/inference.h"
#include "henn/key_bundle.h"
#include "henn/planner.h"
#include "henn/resources.h"
#include "io/dataset.h"
#include "io/image_file.h"
#include "io/overlay.h"
#include "io/png.h"
#include "io/preprocess.h"
#include "io/report.h"
#include "nn/forward.h"
#include "nn/instances.h"
#include "nn/metrics.h"
#include "nn/output_decoding.h"
#include "nn/predict.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>

namespace {

namespace fs = std::filesystem;
using namespace cryptounet;
using Clock = std::chrono::steady_clock;

struct DemoOptions {
  std::string model = "models/unet_he.onnx";
  std::string data = "data/dsb2018-sample";
  std::string out = "out/demo";
  std::string report;  // HTML page; empty: none
  int limit = 0;
  bool json = false;
  bool debug = false;  // per-layer max abs error against the plaintext reference (decrypts every layer)
  henn::PlanOptions plan;
  bool mri = false;  // brain MRI volume instead of the image folder (demo_mri.h)
  app::MriDemoOptions mri_options;
};

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void run_demo(const DemoOptions& o) {
  // With --json, stdout carries only the JSON object; progress goes to stderr.
  auto say = [&](const std::string& line) {
    fmt::print(o.json ? stderr : stdout, "{}\n", line);
    std::fflush(o.json ? stderr : stdout);
  };
  const nn::LoadedModel loaded = nn::LoadedModel::load(o.model);
  auto samples = io::list_dataset(o.data);
  if (o.limit > 0 && samples.size() > static_cast<std::size_t>(o.limit)) samples.resize(o.limit);
  const int tile = loaded.info.tile;
  nn::PredictOptions popts;
  popts.tile = tile;
  popts.stride = tile * 3 / 4;

  // Client: plan and keys.
  auto t0 = Clock::now();
  const henn::InferencePlan plan = henn::plan_inference(loaded.model, tile, tile, o.plan);
  say("plan: " + plan.describe());
  auto [client, eval] = henn::generate_keys(plan);
  const double keygen_s = since(t0);
  say(fmt::format("keygen {:.1f}s, evaluation keys {:.0f} MiB", keygen_s, eval.memory_bytes() / 1048576.0));

  // Client: preprocess and encrypt.
  t0 = Clock::now();
  std::vector<io::Image> images;
  std::vector<io::Plane> planes;
  std::vector<std::string> names;
  for (const auto& s : samples) {
    images.push_back(io::read_image(s.image_path, s.page));
    planes.push_back(io::preprocess(images.back(), loaded.info.normalization));
    names.push_back(s.id);
  }
  const henn::EncryptedBatch batch = henn::encrypt_images(client, planes, names, popts.stride);
  const double encrypt_s = since(t0);
  const std::size_t tiles = batch.tile_count();
  say(fmt::format("encrypt {:.1f}s: {} images, {} tiles in {} ciphertexts", encrypt_s, images.size(), tiles,
                  batch.ciphertexts.size()));

  // Plaintext reference on the same tiles.
  t0 = Clock::now();
  std::vector<nn::Tensor> plain_logits;
  for (const auto& p : planes) plain_logits.push_back(nn::predict_logits(loaded.model, nn::Tensor::from_plane(p), popts));
  const double plain_s = since(t0);

  // Server: encrypted inference. In debug mode the demo (which also holds the secret key) decrypts every layer.
  std::vector<std::vector<nn::Tensor>> reference;
  if (o.debug) {
    if (batch.tile_count() != samples.size()) throw std::invalid_argument("demo --debug needs one tile per image");
    for (const auto& p : planes) reference.push_back(nn::forward(loaded.model, nn::Tensor::from_plane(p)));
  }
  ckks::Encoder encoder(client.context);
  ckks::Decryptor decryptor(client.context, client.secret);
  nlohmann::json layers = nlohmann::json::array();
  std::map<int, io::ReportBar> layer_time;  // by node index, summed over ciphertext groups
  auto progress = [&](const henn::NodeProgress& p) {
    auto& bar = layer_time[p.node];
    bar.label = fmt::format("{} {}", p.model_node->name, nn::op_name(p.model_node->op));
    bar.seconds += p.seconds;
    std::string line = henn::describe(p);
    if (o.debug) {
      std::vector<henn::DecodedMap> maps;
      for (const auto& m : *p.output)
        maps.push_back(henn::decode_map(m, [&](const ckks::Ciphertext& ct) {
          return encoder.decode(decryptor.decrypt(ct));
        }));
      std::vector<std::vector<const nn::Tensor*>> refs(p.group_size);
      for (int c = 0; c < p.group_size; ++c) {
        const int first = (p.first_ciphertext + c) * plan.layout.tiles_per_ciphertext;
        for (int k = first; k < std::min<int>(first + plan.layout.tiles_per_ciphertext, reference.size()); ++k)
          refs[c].push_back(&reference[k][p.node]);
      }
      const double err = henn::max_abs_error(plan.layout, maps, refs);
      line += fmt::format("  max abs error {:.2e}", err);
      layers.push_back({{"node", p.node}, {"first_ciphertext", p.first_ciphertext}, {"max_abs_error", err}});
    }
    say(line);
  };
  henn::InferenceStats stats;
  const henn::EncryptedBatch result = henn::run_inference(loaded.model, eval, batch, progress, &stats);
  const double infer_s = stats.seconds;

  // Client: decrypt, threshold, score.
  t0 = Clock::now();
  const auto enc_logits = henn::decrypt_logit_maps(
      client, henn::BatchRecord::of(client, batch, loaded.info.output_channels), result);
  const double decrypt_s = since(t0);
  if (!o.out.empty()) fs::create_directories(o.out);
  double dice_enc = 0, dice_plain = 0, agreement = 0, max_logit_error = 0, ap_enc = 0, ap_plain = 0;
  std::size_t agree_pixels = 0, total_pixels = 0;
  int scored = 0, instance_scored = 0;
  std::vector<io::ReportImage> report_images;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const io::Mask enc = nn::foreground_mask(enc_logits[i], loaded.info);
    const io::Mask plain = nn::foreground_mask(plain_logits[i], loaded.info);
    std::size_t agree = 0;
    double logit_error = 0;
    for (std::size_t k = 0; k < enc.pixels.size(); ++k) agree += enc.pixels[k] == plain.pixels[k];
    for (std::size_t k = 0; k < enc_logits[i].data.size(); ++k)
      logit_error = std::max(logit_error, std::abs(enc_logits[i].data[k] - plain_logits[i].data[k]));
    agree_pixels += agree;
    total_pixels += enc.pixels.size();
    max_logit_error = std::max(max_logit_error, logit_error);
    io::ReportScores scores;
    scores.pixel_agreement = static_cast<double>(agree) / static_cast<double>(enc.pixels.size());
    scores.max_logit_error = logit_error;
    const io::LabelImage enc_nuclei = nn::nuclei_labels(enc_logits[i], loaded.info, loaded.info.instances);
    const io::LabelImage plain_nuclei = nn::nuclei_labels(plain_logits[i], loaded.info, loaded.info.instances);
    scores.nuclei_encrypted = static_cast<long>(nn::measure_instances(enc_nuclei).size());
    scores.nuclei_plain = static_cast<long>(nn::measure_instances(plain_nuclei).size());
    std::optional<io::Mask> truth;
    if (!samples[i].mask_path.empty()) {
      truth = io::read_mask(samples[i].mask_path, samples[i].page);
      const nn::SegmentationScores se = nn::score_masks(enc, *truth), sp = nn::score_masks(plain, *truth);
      dice_enc += se.dice, dice_plain += sp.dice, ++scored;
      scores.dice_encrypted = se.dice, scores.dice_plain = sp.dice;
      scores.iou_encrypted = se.iou, scores.iou_plain = sp.iou;
      say(fmt::format("{}: dice encrypted {:.4f}, plaintext {:.4f}", samples[i].id, se.dice, sp.dice));
    }
    std::optional<io::LabelImage> true_nuclei;
    if (!samples[i].label_path.empty()) {
      true_nuclei = io::read_labels(samples[i].label_path, samples[i].page);
      const double ae = nn::dsb_average_precision(enc_nuclei, *true_nuclei);
      const double ap = nn::dsb_average_precision(plain_nuclei, *true_nuclei);
      ap_enc += ae, ap_plain += ap, ++instance_scored;
      scores.ap_encrypted = ae, scores.ap_plain = ap;
      scores.nuclei_true = static_cast<long>(nn::measure_instances(*true_nuclei).size());
      say(fmt::format("{}: nuclei AP encrypted {:.4f}, plaintext {:.4f}", samples[i].id, ae, ap));
    }
    if (!o.report.empty()) {
      std::vector<app::Segmentation> shown = {{"encrypted (decrypted result)", enc_nuclei},
                                              {"plaintext reference", plain_nuclei}};
      if (true_nuclei) shown.push_back({"ground truth", *true_nuclei});
      else if (truth) shown.push_back({"ground truth (mask)", app::mask_as_labels(*truth)});
      report_images.push_back(app::report_image(samples[i].id, images[i], shown, scores));
    }
    if (!o.out.empty()) {
      io::write_mask(o.out + "/" + samples[i].id + "_mask.png", enc);
      io::write_png(o.out + "/" + samples[i].id + "_overlay.png",
                    io::make_overlay(io::to_gray(images[i]), enc, truth ? &*truth : nullptr));
    }
  }
  agreement = total_pixels ? static_cast<double>(agree_pixels) / total_pixels : 0.0;
  const double per_tile = infer_s / static_cast<double>(tiles);
  nlohmann::json j = {
      {"model", loaded.model.name},
      {"images", samples.size()},
      {"tiles", tiles},
      {"tiles_per_ciphertext", plan.layout.tiles_per_ciphertext},
      {"dice_encrypted", scored ? nlohmann::json(dice_enc / scored) : nlohmann::json(nullptr)},
      {"dice_plain", scored ? nlohmann::json(dice_plain / scored) : nlohmann::json(nullptr)},
      {"map", instance_scored ? nlohmann::json(ap_enc / instance_scored) : nlohmann::json(nullptr)},
      {"map_plain", instance_scored ? nlohmann::json(ap_plain / instance_scored) : nlohmann::json(nullptr)},
      {"pixel_agreement", agreement},
      {"max_logit_error", max_logit_error},
      {"seconds_per_tile", per_tile},
      {"seconds", {{"keygen", keygen_s}, {"encrypt", encrypt_s}, {"infer", infer_s}, {"decrypt", decrypt_s},
                   {"plaintext", plain_s}}},
      {"key_switches", stats.counts.key_switches},
      {"evaluation_key_mb", eval.memory_bytes() / 1048576.0},
      {"peak_rss_mb", henn::peak_rss_mb()},
      {"params", plan.describe()}};
  if (o.debug) j["layers"] = layers;
  if (!o.report.empty()) {
    io::Report report;
    report.title = "cryptounet demo: encrypted segmentation of " + o.data;
    report.facts = {{"model", loaded.model.name},
                    {"CKKS parameters", plan.describe()},
                    {"images / tiles", fmt::format("{} / {} tiles of {}x{} in {} ciphertexts", samples.size(),
                                                   tiles, tile, tile, batch.ciphertexts.size())},
                    {"time", fmt::format("keygen {:.1f} s, encrypt {:.1f} s, encrypted inference {:.1f} s ({:.1f} s "
                                         "per tile), decrypt {:.1f} s, plaintext reference {:.2f} s",
                                         keygen_s, encrypt_s, infer_s, per_tile, decrypt_s, plain_s)},
                    {"key switches", std::to_string(stats.counts.key_switches)},
                    {"evaluation keys", fmt::format("{:.0f} MiB", eval.memory_bytes() / 1048576.0)}};
    report.images = std::move(report_images);
    report.chart_title = "Encrypted inference time per layer";
    for (const auto& [node, bar] : layer_time) report.chart.push_back(bar);
    report.peak_rss_mb = henn::peak_rss_mb();
    io::write_report(o.report, report);
    say("report: " + o.report);
  }
  if (o.json) {
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("\n{} images ({} tiles): Dice encrypted {:.4f}, plaintext {:.4f}; pixel agreement {:.5f}; "
             "max logit error {:.2e}\n",
             samples.size(), tiles, scored ? dice_enc / scored : 0.0, scored ? dice_plain / scored : 0.0, agreement,
             max_logit_error);
  if (instance_scored)
    fmt::print("nuclei mAP (DSB, IoU 0.50-0.95): encrypted {:.4f}, plaintext {:.4f}\n", ap_enc / instance_scored,
               ap_plain / instance_scored);
  fmt::print("time: keygen {:.1f}s, encrypt {:.1f}s, inference {:.1f}s ({:.1f}s per tile, {} tiles per ciphertext), "
             "decrypt {:.1f}s, plaintext {:.2f}s; peak RSS {:.0f} MiB{}\n",
             keygen_s, encrypt_s, infer_s, per_tile, plan.layout.tiles_per_ciphertext, decrypt_s, plain_s, henn::peak_rss_mb(),
             o.out.empty() ? "" : "; overlays in " + o.out);
}

void setup_demo(CLI::App& root) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = root.add_subcommand("demo", "Encrypted segmentation of the bundled images, checked against plaintext");
  auto* model = cmd->add_option("--model", o->model, "ONNX model (with its JSON sidecar; --mri: models/brain_he.onnx)");
  cmd->add_option("--data", o->data, "DSB-layout folder (images/, masks/, labels/)")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Only the first K images")->check(CLI::NonNegativeNumber);
  cmd->add_option("-o,--out", o->out, "Folder for mask and overlay PNGs (empty: none)");
  cmd->add_option("--report", o->report, "Write one self-contained HTML page: images, scores, time per layer");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->add_flag("--debug", o->debug, "Report every layer's max abs error against the plaintext reference");
  app::add_plan_options(cmd, o->plan);
  cmd->add_flag("--mri", o->mri, "Brain extraction on a T1 MRI volume (NIfTI): a few slices encrypted, all in plaintext");
  cmd->add_option("--volume", o->mri_options.volume, "--mri: the T1 volume")->capture_default_str();
  cmd->add_option("--brain-mask", o->mri_options.truth, "--mri: its brain mask (brain > 0)")->capture_default_str();
  cmd->add_option("--slices", o->mri_options.slices, "--mri: slices run encrypted")->capture_default_str();
  cmd->callback([o, model] {
    if (!o->mri) return run_demo(*o);
    if (!o->report.empty()) throw std::invalid_argument("demo --mri writes no --report");
    app::MriDemoOptions m = o->mri_options;
    if (model->count()) m.model = o->model;
    m.out = o->out;
    m.json = o->json;
    m.plan = o->plan;
    app::run_mri_demo(m);
  });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_demo);
