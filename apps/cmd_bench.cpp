// `cryptounet bench`: server-side cost of the encrypted U-Net — time per tile amortized over one full group of
// ciphertexts (4 lanes x layout.tiles_per_ciphertext tiles, the unit that shares the low-resolution layers), per-layer time, rotation / key-switch counts, peak RSS, key and ciphertext sizes, on each
// requested thread count — and the op-count lower bound: the counted operations times the engine's own measured
// cost of each operation (at the middle level of the chain), to show how far the layout is from its own limit.
#include "command.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/linear_accumulator.h"
#include "ckks/serialization.h"
#include "henn/batch.h"
#include "henn/inference.h"
#include "henn/key_bundle.h"
#include "henn/planner.h"
#include "henn/resources.h"
#include "io/dataset.h"
#include "io/image_file.h"
#include "io/preprocess.h"
#include "nn/predict.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <omp.h>

#include <chrono>
#include <random>

namespace {

using namespace cryptounet;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string model = "models/unet_he.onnx";
  std::string data = "data/demo";
  std::vector<int> threads{1, 2};
  int tiles = 0;  // 0: 4 ciphertexts' worth (Layout::kMaxLanes * layout.tiles_per_ciphertext)
  bool json = false;
};

template <typename F>
double time_per_call(int reps, F&& f) {
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count() / reps;
}

struct OpCosts {
  int level = 0;
  double rotation = 0, hoisted_rotation = 0, summed_rotation = 0, relin = 0, mask_product = 0, integer_mac = 0,
         rescale = 0;
};

// Engine op costs at `level` with the bench's keys (one rotation key is enough: all cost the same).
OpCosts measure_op_costs(const henn::ClientKeys& client, const henn::EvaluationKeys& eval, int level) {
  const auto& ctx = client.context;
  ckks::Encoder encoder(ctx);
  ckks::Encryptor encryptor(ctx, client.secret);
  ckks::Evaluator ev(ctx);
  std::vector<double> v(ctx->slot_count(), 0.5);
  const ckks::Ciphertext ct = encryptor.encrypt(encoder.encode(v, level, eval.plan.input_scale));
  const ckks::Plaintext pt = encoder.encode(v, level, 0x1p24);
  const int step = eval.plan.rotation_steps.front();
  std::vector<int> eight(8, step);
  OpCosts c;
  c.level = level;
  c.rotation = time_per_call(2, [&] { ev.rotate(ct, step, eval.galois); });
  c.hoisted_rotation = time_per_call(1, [&] { ev.rotate_hoisted(ct, eight, eval.galois); }) / 8;
  const std::vector<ckks::Ciphertext> eight_terms(8, ct);
  c.summed_rotation = time_per_call(1, [&] { ev.rotate_and_sum(eight_terms, eight, eval.galois); }) / 8;
  c.relin = time_per_call(2, [&] { ev.square_relin(ct, eval.relin); });
  c.mask_product = time_per_call(10, [&] { ev.mul_plain(ct, pt); });
  // As the layers issue them: 8 outputs x 9 taps in one pass (LinearAccumulator::add_int_rows).
  std::vector<ckks::LinearAccumulator> accs(8, ckks::LinearAccumulator(ctx, level, 65536.0));
  std::vector<ckks::LinearAccumulator*> rows;
  for (auto& a : accs) rows.push_back(&a);
  const std::vector<ckks::Ciphertext> tap_terms(9, ct);
  std::vector<const ckks::Ciphertext*> taps;
  for (const auto& t : tap_terms) taps.push_back(&t);
  const std::vector<int64_t> weights(rows.size() * taps.size(), 12345);
  c.integer_mac = time_per_call(3, [&] { ckks::LinearAccumulator::add_int_rows(rows, taps, weights); }) /
                  static_cast<double>(weights.size());
  const ckks::Ciphertext prod = ev.mul_plain(ct, pt);
  c.rescale = time_per_call(5, [&] { ev.rescale(prod); });
  return c;
}

void run_bench(const BenchOptions& o) {
  // With --json, stdout carries only the JSON object; the report goes to stderr.
  auto say = [&](const std::string& line) {
    fmt::print(o.json ? stderr : stdout, "{}\n", line);
    std::fflush(o.json ? stderr : stdout);
  };
  const nn::LoadedModel loaded = nn::LoadedModel::load(o.model);
  const int tile = loaded.info.tile;
  const henn::InferencePlan plan = henn::plan_inference(loaded.model, tile, tile);
  say("plan: " + plan.describe());
  auto t0 = Clock::now();
  auto [client, eval] = henn::generate_keys(plan);
  const double keygen_s = std::chrono::duration<double>(Clock::now() - t0).count();

  // One full group of ciphertexts: the bundled images if present, else random ones.
  std::vector<io::Plane> planes;
  std::vector<std::string> names;
  std::vector<io::Sample> samples;
  try {
    samples = io::list_dataset(o.data);
  } catch (const std::exception&) {
  }
  std::mt19937 rng(1);
  std::normal_distribution<double> normal(0, 1);
  const int tiles = o.tiles > 0 ? o.tiles : henn::Layout::kMaxLanes * plan.layout.tiles_per_ciphertext;
  for (int k = 0; k < tiles; ++k) {
    if (k < static_cast<int>(samples.size())) {
      planes.push_back(io::preprocess(io::read_image(samples[k].image_path, samples[k].page), loaded.info.normalization));
    } else {
      io::Plane p(tile, tile);
      for (double& x : p.pixels) x = normal(rng);
      planes.push_back(std::move(p));
    }
    names.push_back("tile" + std::to_string(k));
  }
  const henn::EncryptedBatch batch = henn::encrypt_images(client, planes, names, tile);
  const double ct_bytes = static_cast<double>(ckks::serialized_size(*client.context, batch.ciphertexts.front()));
  const double eval_bytes = static_cast<double>(ckks::serialized_size(*eval.context, eval.galois) +
                                                ckks::serialized_size(*eval.context, eval.relin));
  say(fmt::format("keygen {:.1f}s; evaluation keys {:.0f} MiB in memory, {:.0f} MiB serialized; input ciphertext "
                  "{:.1f} MiB serialized ({} tiles); {} tiles in {} ciphertexts",
                  keygen_s, eval.memory_bytes() / 1048576.0, eval_bytes / 1048576.0, ct_bytes / 1048576.0,
                  plan.layout.tiles_per_ciphertext, tiles, batch.ciphertexts.size()));

  say(fmt::format("peak RSS before inference (keys, batch) {:.0f} MiB", henn::peak_rss_mb()));

  nlohmann::json runs = nlohmann::json::array();
  henn::InferenceStats last;
  for (int threads : o.threads) {
    omp_set_num_threads(threads);
    henn::InferenceStats stats;
    std::vector<double> node_rss(loaded.model.nodes.size(), 0.0);  // process peak after each node (its last group)
    auto progress = [&](const henn::NodeProgress& p) { node_rss[p.node] = henn::peak_rss_mb(); };
    const auto result = henn::run_inference(loaded.model, eval, batch, progress, &stats);
    const double per_tile = stats.seconds / tiles;
    nlohmann::json layers = nlohmann::json::object();
    std::string table;
    for (std::size_t i = 0; i < loaded.model.nodes.size(); ++i)
      if (stats.node_seconds[i] > 0) {
        layers[loaded.model.nodes[i].name] = stats.node_seconds[i];
        table += fmt::format("    {:<14} {:<16} {:7.2f}s  peak RSS {:6.0f} MiB\n", loaded.model.nodes[i].name,
                             nn::op_name(loaded.model.nodes[i].op), stats.node_seconds[i], node_rss[i]);
      }
    const auto& c = stats.counts;
    say(fmt::format("threads {}: {:.1f}s for the batch = {:.1f}s per {}x{} tile; {} rotations ({} in {} hoisted "
                    "groups, {} in {} rotation sums), {} relinearizations, {} key switches (ModDowns), {} ModUps, "
                    "{} mask products, {} integer MACs, {} rescales; peak RSS {:.0f} MiB\n{}",
                    threads, stats.seconds, per_tile, tile, tile, c.rotations, c.hoisted_rotations, c.hoisted_groups,
                    c.summed_rotations, c.rotation_sums, c.relinearizations, c.key_switches, c.mod_ups,
                    c.mask_products, c.integer_macs, c.rescales, henn::peak_rss_mb(), table));
    runs.push_back({{"threads", threads},
                    {"seconds", stats.seconds},
                    {"seconds_per_tile", per_tile},
                    {"layers", layers},
                    {"peak_rss_mb", henn::peak_rss_mb()}});
    last = stats;
  }

  // Lower bound from the counted ops and the engine's op costs (single thread, middle level).
  omp_set_num_threads(1);
  const OpCosts cost = measure_op_costs(client, eval, plan.levels / 2);
  const auto& c = last.counts;
  // Summed rotations at the cost of one in a sum of 8, the others (pooling and lane merges too, a lower bound) at the
  // cost of one of 8 hoisted rotations.
  const double rotations_s = c.summed_rotations * cost.summed_rotation +
                             (c.rotations - c.summed_rotations) * cost.hoisted_rotation;
  const double bound = rotations_s + c.relinearizations * cost.relin + c.mask_products * cost.mask_product +
                       c.integer_macs * cost.integer_mac + c.rescales * cost.rescale;
  say(fmt::format("engine op costs at level {} (1 thread): rotation {:.1f} ms, hoisted rotation {:.1f} ms, "
                  "summed rotation {:.1f} ms, relinearization {:.1f} ms, mask product {:.2f} ms, integer MAC "
                  "{:.2f} ms, rescale {:.2f} ms",
                  cost.level, cost.rotation * 1e3, cost.hoisted_rotation * 1e3, cost.summed_rotation * 1e3,
                  cost.relin * 1e3,
                  cost.mask_product * 1e3, cost.integer_mac * 1e3, cost.rescale * 1e3));
  say(fmt::format("op-count lower bound (1 thread): {:.1f}s for the batch = {:.1f}s per tile "
                  "(rotations {:.0f}s, relin {:.0f}s, mask products {:.0f}s, MACs {:.0f}s, rescales {:.0f}s)",
                  bound, bound / tiles, rotations_s,
                  c.relinearizations * cost.relin, c.mask_products * cost.mask_product,
                  c.integer_macs * cost.integer_mac, c.rescales * cost.rescale));
  if (o.json) {
    nlohmann::json j = {{"params", plan.describe()},
                        {"tiles_per_ciphertext", plan.layout.tiles_per_ciphertext},
                        {"keygen_seconds", keygen_s},
                        {"evaluation_key_mb", eval.memory_bytes() / 1048576.0},
                        {"evaluation_key_serialized_mb", eval_bytes / 1048576.0},
                        {"ciphertext_serialized_mb", ct_bytes / 1048576.0},
                        {"runs", runs},
                        {"counts",
                         {{"rotations", c.rotations},
                          {"hoisted_groups", c.hoisted_groups},
                          {"hoisted_rotations", c.hoisted_rotations},
                          {"rotation_sums", c.rotation_sums},
                          {"summed_rotations", c.summed_rotations},
                          {"mod_ups", c.mod_ups},
                          {"relinearizations", c.relinearizations},
                          {"key_switches", c.key_switches},
                          {"mask_products", c.mask_products},
                          {"integer_macs", c.integer_macs},
                          {"rescales", c.rescales}}},
                        {"op_costs_ms",
                         {{"level", cost.level},
                          {"rotation", cost.rotation * 1e3},
                          {"hoisted_rotation", cost.hoisted_rotation * 1e3},
                          {"summed_rotation", cost.summed_rotation * 1e3},
                          {"relinearization", cost.relin * 1e3},
                          {"mask_product", cost.mask_product * 1e3},
                          {"integer_mac", cost.integer_mac * 1e3},
                          {"rescale", cost.rescale * 1e3}}},
                        {"tiles", tiles},
                        {"lower_bound_seconds_per_tile", bound / tiles},
                        {"peak_rss_mb", henn::peak_rss_mb()}};
    fmt::print("{}\n", j.dump());
  }
}

void setup_bench(CLI::App& root) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = root.add_subcommand("bench", "Server cost of the encrypted U-Net (per tile, per layer, op counts)");
  cmd->add_option("--model", o->model, "ONNX model");
  cmd->add_option("--data", o->data, "Images to fill one ciphertext (random tiles if absent)");
  cmd->add_option("--threads", o->threads, "Thread counts to run (default 1 2)");
  cmd->add_option("--tiles", o->tiles, "Tiles to run (default: 4 ciphertexts' worth, one lane group)");
  cmd->add_flag("--json", o->json, "Print one JSON object (the report goes to stderr)");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_bench);
