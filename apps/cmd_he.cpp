// The client/server split of encrypted segmentation:
//   cryptounet keygen  --model M -o keys/                      (client: secret.key 0600, public.bin, eval.bin)
//   cryptounet encrypt --keys keys/ img.png|tif ... -o batch.ct (client; records the batch in keys/batches/)
//   cryptounet infer   --model M --eval-keys keys/eval.bin batch.ct -o masks.ct   (server: no secret key)
//   cryptounet decrypt --keys keys/ masks.ct -o out/            (client: only results of its recorded batches;
//                                                                masks, nuclei labels by the sidecar's split)
#include "command.h"
#include "plan_cli.h"
#include "report_panels.h"
#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/flooding.h"
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
#include "nn/instances.h"
#include "io/volume_masks.h"
#include "nn/metrics.h"
#include "nn/model_info.h"
#include "nn/output_decoding.h"
#include "nn/predict.h"

#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace cryptounet;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct KeygenOptions {
  std::string params = "auto";
  std::string model = "models/unet_he.onnx";
  std::string out = "keys";
  bool force = false;
  henn::PlanOptions plan;
};

void run_keygen(const KeygenOptions& o) {
  if (o.params != "auto") throw std::invalid_argument("keygen: only --params auto is supported (use --log-n to force N)");
  // Checked again, atomically, when the key is written; this only spares generating keys that cannot be saved.
  if (!o.force && fs::exists(fs::symlink_status(o.out + "/secret.key")))
    throw std::runtime_error("keygen: " + o.out + "/secret.key exists; pass --force to replace it");
  const auto t0 = std::chrono::steady_clock::now();
  const nn::LoadedModel loaded = nn::LoadedModel::load(o.model);
  const henn::InferencePlan plan = henn::plan_inference(loaded.model, loaded.info.tile, loaded.info.tile, o.plan);
  fmt::print("plan: {}\n", plan.describe());
  auto [client, eval] = henn::generate_keys(plan);
  henn::save_client_keys(o.out, client, o.force ? ckks::IfExists::kReplace : ckks::IfExists::kRefuse);
  henn::save_evaluation_keys(o.out + "/eval.bin", eval);
  fmt::print("keys: {}/secret.key (0600), {}/public.bin, {}/eval.bin ({:.1f} MiB in memory, {:.1f} MiB file); "
             "{:.1f}s, peak RSS {:.0f} MiB\n",
             o.out, o.out, o.out, eval.memory_bytes() / 1048576.0, fs::file_size(o.out + "/eval.bin") / 1048576.0,
             seconds_since(t0), henn::peak_rss_mb());
}

struct EncryptOptions {
  std::string keys = "keys";
  std::string model = "models/unet_he.onnx";
  std::vector<std::string> images;
  std::string out = "batch.ct";
  int stride = 0;
  int axis = io::kAxialAxis;
};

void run_encrypt(const EncryptOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const henn::ClientKeys keys = henn::load_client_keys(o.keys);
  const nn::ModelInfo info = nn::ModelInfo::load(nn::ModelInfo::sidecar_path(o.model));
  if (info.tile != keys.plan.layout.height)
    throw std::invalid_argument(fmt::format("encrypt: the model tile is {}, the keys were made for {}", info.tile,
                                            keys.plan.layout.height));
  std::vector<nn::Tensor> images;
  std::vector<std::string> names;
  for (const io::Sample& s : io::samples_from_files(o.images, o.axis)) {
    images.push_back(nn::preprocess(io::read_image(s.image_path, s.page, o.axis), info));
    names.push_back(s.id);
  }
  if (images.empty()) throw std::invalid_argument("encrypt: no images");
  const int stride = o.stride > 0 ? o.stride : info.tile * 3 / 4;
  const henn::EncryptedBatch batch = henn::encrypt_images(keys, images, names, stride);
  // First: a batch nobody can decrypt is useless.
  henn::save_batch_record(o.keys, henn::BatchRecord::of(keys, batch, info.output_channels));
  henn::save_batch(o.out, *keys.context, batch);
  fmt::print("{}: batch {}, {} images, {} tiles in {} ciphertexts ({} per ciphertext), {:.1f} MiB, {:.1f}s "
             "(recorded in {})\n",
             o.out, henn::to_hex(batch.id), images.size(), batch.tile_count(), batch.ciphertexts.size(),
             keys.plan.layout.tiles_per_ciphertext, fs::file_size(o.out) / 1048576.0, seconds_since(t0),
             henn::batch_record_path(o.keys, batch.id));
}

struct InferOptions {
  std::string model = "models/unet_he.onnx";
  std::string eval_keys = "keys/eval.bin";
  std::string batch;
  std::string out = "masks.ct";
  int flood_bits = 0;
};

void run_infer(const InferOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const nn::LoadedModel loaded = nn::LoadedModel::load(o.model);
  const henn::EvaluationKeys keys = henn::load_evaluation_keys(o.eval_keys);
  const henn::EncryptedBatch batch = henn::load_batch(o.batch, *keys.context);
  fmt::print("loaded model, keys ({:.0f} MiB) and {} ciphertexts in {:.1f}s\n", keys.memory_bytes() / 1048576.0,
             batch.ciphertexts.size(), seconds_since(t0));
  auto progress = [](const henn::NodeProgress& p) {
    fmt::print("{}\n", henn::describe(p));
    std::fflush(stdout);
  };
  henn::InferenceStats stats;
  henn::EncryptedBatch result = henn::run_inference(loaded.model, keys, batch, progress, &stats);
  if (o.flood_bits > 0) henn::flood_noise(*keys.context, result, o.flood_bits);
  henn::save_batch(o.out, *keys.context, result);
  const double per_tile = stats.seconds / static_cast<double>(batch.tile_count());
  fmt::print("inference {:.1f}s ({:.1f}s per {}x{} tile amortized over the batch's {} tiles; {} per ciphertext, "
             "4 ciphertexts share the low-resolution layers), {} key switches, peak RSS {:.0f} MiB -> {}\n",
             stats.seconds, per_tile, keys.plan.layout.height, keys.plan.layout.width, batch.tile_count(),
             keys.plan.layout.tiles_per_ciphertext, stats.counts.key_switches, henn::peak_rss_mb(), o.out);
}

struct DecryptOptions {
  std::string keys = "keys";
  std::string model = "models/unet_he.onnx";
  std::string batch;
  std::string out = "out";
  std::string images;  // folder with the original PNGs (<name>.png) for overlays
  std::string report;  // HTML page; empty: none
  std::vector<std::string> volumes;  // NIfTI and DICOM inputs of the batch, written back in their own form
  int axis = io::kAxialAxis;
};

// Decrypts only the result of a batch these keys encrypted (its record in keys/batches/), and names every output
// after the record's own, sanitised, input names: nothing the server sends chooses a path.
void run_decrypt(const DecryptOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  const henn::ClientKeys keys = henn::load_client_keys(o.keys);
  const nn::ModelInfo info = nn::ModelInfo::load(nn::ModelInfo::sidecar_path(o.model));
  const henn::BatchRecord submitted = henn::load_batch_record(o.keys, henn::read_batch_id(o.batch));
  const henn::EncryptedBatch result = henn::load_batch(o.batch, *keys.context);
  const double load_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const auto logits = henn::decrypt_logit_maps(keys, submitted, result);
  const double decrypt_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const auto stems = submitted.output_stems();
  const fs::path out = o.out;
  fs::create_directories(out);
  io::Report report;
  io::VolumeMasks volumes(o.volumes, o.axis);
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const io::Mask mask = nn::foreground_mask(logits[i], info);
    const io::LabelImage nuclei = nn::nuclei_labels(logits[i], info, info.instances);
    io::write_mask((out / (stems[i] + "_mask.png")).string(), mask);
    io::write_labels((out / (stems[i] + "_labels.png")).string(), nuclei);
    if (info.output == nn::OutputKind::Classes)
      io::write_labels((out / (stems[i] + "_classes.png")).string(), nn::class_labels(logits[i]));
    volumes.add(submitted.images[i].name, mask);
    const fs::path original_path = fs::path(o.images) / (submitted.images[i].name + ".png");
    std::optional<io::Image> original;
    if (!o.images.empty() && fs::exists(original_path)) {
      original = io::read_image(original_path.string());
      io::write_png((out / (stems[i] + "_overlay.png")).string(), io::make_overlay(io::to_gray(*original), mask));
    }
    fmt::print("{}: {}x{}, {} foreground pixels\n", stems[i], mask.width, mask.height,
               std::count(mask.pixels.begin(), mask.pixels.end(), 1));
    if (!o.report.empty()) {
      io::ReportScores scores;
      scores.nuclei_encrypted = static_cast<long>(nn::measure_instances(nuclei).size());
      if (original)
        report.images.push_back(app::report_image(stems[i], *original, {{"decrypted result", nuclei}}, scores));
      else  // without the original, the nuclei are drawn on the decrypted logit map itself
        report.images.push_back(
            {stems[i], {{"decrypted result on its logits", io::make_instance_overlay(logits[i].to_plane(0), nuclei)}}, scores});
    }
  }
  if (!o.report.empty()) {
    report.title = "cryptounet decrypt: " + fs::path(o.batch).filename().string();
    report.facts = {{"batch", henn::to_hex(submitted.id)},
                    {"images", std::to_string(logits.size())},
                    {"CKKS parameters", keys.plan.describe()}};
    report.chart_title = "Client time per step";
    report.chart = {{"load keys and result", load_s}, {"decrypt and decode", decrypt_s},
                    {"masks, nuclei, files", seconds_since(t0)}};
    report.peak_rss_mb = henn::peak_rss_mb();
    io::write_report(o.report, report);
    fmt::print("report: {}\n", o.report);
  }
  for (const std::string& path : volumes.write(o.out)) fmt::print("{}\n", path);
}

void setup_he(CLI::App& root) {
  auto keygen_opts = std::make_shared<KeygenOptions>();
  auto* keygen = root.add_subcommand("keygen", "Plan the CKKS parameters for a model and generate keys (client)");
  keygen->add_option("--params", keygen_opts->params, "Parameter choice: auto (levels, N, primes from the model)");
  keygen->add_option("--model", keygen_opts->model, "ONNX model (with its JSON sidecar)");
  keygen->add_option("-o,--out", keygen_opts->out, "Key folder");
  keygen->add_flag("--force", keygen_opts->force, "Replace an existing secret key in the key folder");
  app::add_plan_options(keygen, keygen_opts->plan);
  keygen->callback([keygen_opts] { run_keygen(*keygen_opts); });

  auto enc_opts = std::make_shared<EncryptOptions>();
  auto* enc = root.add_subcommand("encrypt", "Preprocess, tile, pack and encrypt images (client)");
  enc->add_option("--keys", enc_opts->keys, "Key folder from keygen");
  enc->add_option("--model", enc_opts->model, "Model (its sidecar gives tile and normalization)");
  enc->add_option("images", enc_opts->images,
                  "Images: PNG, TIFF, DICOM, NIfTI (a stack, multi-frame object or volume is one image per page, "
                  "frame or slice: <stem>_p<k>)")
      ->required()
      ->check(CLI::ExistingFile);
  enc->add_option("--axis", enc_opts->axis,
                  "NIfTI volumes: slice perpendicular to voxel axis 0, 1 or 2 (default: the axial axis by the affine)")
      ->check(CLI::Range(0, 2));
  enc->add_option("-o,--out", enc_opts->out, "Encrypted batch file");
  enc->add_option("--stride", enc_opts->stride, "Tile stride (default 3/4 of the tile)");
  enc->callback([enc_opts] { run_encrypt(*enc_opts); });

  auto inf_opts = std::make_shared<InferOptions>();
  auto* inf = root.add_subcommand("infer", "Run the U-Net on an encrypted batch (server; evaluation keys only)");
  inf->add_option("--model", inf_opts->model, "ONNX model");
  inf->add_option("--eval-keys", inf_opts->eval_keys, "Evaluation key bundle (eval.bin)");
  inf->add_option("batch", inf_opts->batch, "Encrypted batch")->required();
  inf->add_option("-o,--out", inf_opts->out, "Encrypted logit maps");
  inf->add_option("--flood-bits", inf_opts->flood_bits,
                  "Add fresh uniform noise of this many bits to every result coefficient, hiding the model's "
                  "contribution to the decryption error (docs/SECURITY.md); 0 = off")
      ->check(CLI::Range(0, henn::kMaxFloodBits));
  inf->callback([inf_opts] { run_infer(*inf_opts); });

  auto dec_opts = std::make_shared<DecryptOptions>();
  auto* dec = root.add_subcommand(
      "decrypt", "Decrypt the result of a batch these keys encrypted into mask, nuclei-label (and overlay) PNGs (client)");
  dec->add_option("--keys", dec_opts->keys, "Key folder");
  dec->add_option("--model", dec_opts->model, "Model (its sidecar gives the threshold and the output kind)");
  dec->add_option("batch", dec_opts->batch, "Encrypted result of infer")->required();
  dec->add_option("-o,--out", dec_opts->out, "Output folder");
  dec->add_option("--images", dec_opts->images, "Folder with the original <name>.png, for overlays");
  dec->add_option("--report", dec_opts->report, "Write one self-contained HTML page: images, nuclei, times");
  dec->add_option("--volumes", dec_opts->volumes,
                  "The batch's NIfTI and DICOM inputs: their masks also as <stem>_mask.nii.gz (the input's header and "
                  "affine) or <stem>_seg.dcm (DICOM Segmentation; only DICOM inputs give one)")
      ->check(CLI::ExistingFile);
  dec->add_option("--axis", dec_opts->axis, "NIfTI volumes: the --axis given to encrypt")->check(CLI::Range(0, 2));
  dec->callback([dec_opts] { run_decrypt(*dec_opts); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_he);
