// The MRI part of `cryptounet demo` (run_mri_demo, called by cmd_demo.cpp for --mri): slices of a NIfTI volume
// perpendicular to its third axis, encrypted inference on a few of them, plaintext on all, a label volume out.
#include "demo_mri.h"

#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/inference.h"
#include "henn/key_bundle.h"
#include "henn/resources.h"
#include "io/nifti.h"
#include "io/preprocess.h"
#include "nn/metrics.h"
#include "nn/predict.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace cryptounet::app {

namespace {

using Clock = std::chrono::steady_clock;

// The stored slice axis: the in-plane grid is what the model was trained on (train/mri.py, TEST_AXIS).
constexpr int kSliceAxis = 2;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Pixel counts of one segmentation against the truth, summed over slices: Dice of the voxels, not a slice mean.
struct Overlap {
  long both = 0, predicted = 0, truth = 0;

  void add(const io::Mask& p, const io::Mask& t) {
    for (std::size_t k = 0; k < p.pixels.size(); ++k) {
      both += p.pixels[k] && t.pixels[k];
      predicted += p.pixels[k];
      truth += t.pixels[k];
    }
  }
  double dice() const { return predicted + truth ? 2.0 * static_cast<double>(both) / (predicted + truth) : 1.0; }
};

io::Mask positive(const io::Plane& p) {
  io::Mask m(p.width, p.height);
  for (std::size_t k = 0; k < p.pixels.size(); ++k) m.pixels[k] = p.pixels[k] > 0;
  return m;
}

io::LabelImage as_labels(const io::Mask& m) {
  io::LabelImage l(m.width, m.height);
  for (std::size_t k = 0; k < m.pixels.size(); ++k) l.pixels[k] = m.pixels[k];
  return l;
}

}  // namespace

void run_mri_demo(const MriDemoOptions& o) {
  auto say = [&](const std::string& line) {
    fmt::print(o.json ? stderr : stdout, "{}\n", line);
    std::fflush(o.json ? stderr : stdout);
  };
  const nn::LoadedModel loaded = nn::LoadedModel::load(o.model);
  const io::NiftiVolume volume = io::NiftiVolume::read(o.volume);
  const io::NiftiVolume truth = io::NiftiVolume::read(o.truth);
  for (int axis = 0; axis < 3; ++axis)
    if (volume.size(axis) != truth.size(axis))
      throw std::invalid_argument("demo --mri: the volume and its brain mask differ in size along axis " +
                                  std::to_string(axis));
  const int count = volume.size(kSliceAxis);
  if (o.slices < 1 || o.slices > count)
    throw std::invalid_argument(fmt::format("demo --mri: --slices must be 1..{}", count));
  std::vector<int> chosen;
  for (int s = 0; s < o.slices; ++s)
    chosen.push_back(static_cast<int>(count * (0.15 + 0.7 * (s + 0.5) / o.slices)));

  const int tile = loaded.info.tile;
  nn::PredictOptions popts;
  popts.tile = tile;
  popts.stride = tile * 3 / 4;
  std::vector<io::Plane> planes;
  std::vector<io::Mask> truths;
  for (int i = 0; i < count; ++i) {
    planes.push_back(io::preprocess(volume.slice_image(kSliceAxis, i), loaded.info.normalization));
    truths.push_back(positive(truth.slice(kSliceAxis, i)));
  }
  say(fmt::format("{}: {}x{}x{} voxels; {} slices encrypted, all {} in plaintext", o.volume, volume.size(0),
                  volume.size(1), volume.size(2), chosen.size(), count));

  // Plaintext reference on every slice (same tiling as the encrypted run).
  auto t0 = Clock::now();
  std::vector<io::Mask> plain;
  Overlap plain_all;
  for (int i = 0; i < count; ++i) {
    plain.push_back(
        nn::threshold_logits(nn::predict_logits(loaded.model, planes[i], popts), loaded.info.threshold_logit));
    plain_all.add(plain[i], truths[i]);
  }
  const double plain_s = since(t0);
  say(fmt::format("plaintext, all {} slices: brain Dice {:.4f} ({:.1f}s)", count, plain_all.dice(), plain_s));

  // Client: plan, keys, encryption of the chosen slices.
  t0 = Clock::now();
  const henn::InferencePlan plan = henn::plan_inference(loaded.model, tile, tile, o.plan);
  auto [client, eval] = henn::generate_keys(plan);
  const double keygen_s = since(t0);
  say("plan: " + plan.describe());
  t0 = Clock::now();
  std::vector<io::Plane> selected;
  std::vector<std::string> names;
  for (int i : chosen) {
    selected.push_back(planes[i]);
    names.push_back("slice" + std::to_string(i));
  }
  const henn::EncryptedBatch batch = henn::encrypt_images(client, selected, names, popts.stride);
  const double encrypt_s = since(t0);

  // Server: encrypted inference with the evaluation keys only. Client: decryption.
  henn::InferenceStats stats;
  const henn::EncryptedBatch result =
      henn::run_inference(loaded.model, eval, batch, [&](const henn::NodeProgress& p) { say(henn::describe(p)); },
                          &stats);
  t0 = Clock::now();
  const auto logits = henn::decrypt_logits(client, henn::BatchRecord::of(client, batch), result);
  const double decrypt_s = since(t0);

  // Scores; the label volume holds the encrypted result on the chosen slices and 0 (unsegmented) elsewhere.
  Overlap encrypted, plain_chosen;
  std::vector<io::LabelImage> labels;
  for (const auto& p : planes) labels.emplace_back(p.width, p.height);
  long agree = 0, pixels = 0;
  for (std::size_t s = 0; s < chosen.size(); ++s) {
    const int i = chosen[s];
    const io::Mask enc = nn::threshold_logits(logits[s], loaded.info.threshold_logit);
    encrypted.add(enc, truths[i]);
    plain_chosen.add(plain[i], truths[i]);
    for (std::size_t k = 0; k < enc.pixels.size(); ++k) agree += enc.pixels[k] == plain[i].pixels[k];
    pixels += static_cast<long>(enc.pixels.size());
    labels[i] = as_labels(enc);
    say(fmt::format("slice {}: Dice encrypted {:.4f}, plaintext {:.4f}", i, nn::score_masks(enc, truths[i]).dice,
                    nn::score_masks(plain[i], truths[i]).dice));
  }
  std::string written;
  if (!o.out.empty()) {
    std::filesystem::create_directories(o.out);
    written = o.out + "/brain_labels.nii.gz";
    volume.write_labels(written, kSliceAxis, labels);
  }
  const double agreement = pixels ? static_cast<double>(agree) / pixels : 0.0;
  if (o.json) {
    nlohmann::json j = {{"model", loaded.model.name},
                        {"volume", o.volume},
                        {"slices", chosen},
                        {"dice_encrypted", encrypted.dice()},
                        {"dice_plain", plain_chosen.dice()},
                        {"dice_plain_volume", plain_all.dice()},
                        {"pixel_agreement", agreement},
                        {"labels", written},
                        {"seconds", {{"keygen", keygen_s}, {"encrypt", encrypt_s}, {"infer", stats.seconds},
                                     {"decrypt", decrypt_s}, {"plaintext", plain_s}}},
                        {"peak_rss_mb", henn::peak_rss_mb()},
                        {"params", plan.describe()}};
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("\n{} slices ({} tiles): brain Dice encrypted {:.4f}, plaintext {:.4f} (same slices); plaintext on all "
             "{} slices {:.4f}; pixel agreement {:.5f}\n",
             chosen.size(), batch.tile_count(), encrypted.dice(), plain_chosen.dice(), count, plain_all.dice(),
             agreement);
  fmt::print("time: keygen {:.1f}s, encrypt {:.1f}s, inference {:.1f}s, decrypt {:.1f}s, plaintext {:.2f}s; peak RSS "
             "{:.0f} MiB{}\n",
             keygen_s, encrypt_s, stats.seconds, decrypt_s, plain_s, henn::peak_rss_mb(),
             written.empty() ? "" : "; labels (encrypted slices, 0 elsewhere) in " + written);
}

}  // namespace cryptounet::app
