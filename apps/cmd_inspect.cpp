// cryptounet inspect M: what a model costs before anyone spends an hour on it. The layer table (op, output shape
// at the tile size, kernel, parameters, levels consumed up to each node), then the CKKS set the planner would choose
// (ring degree, primes, log QP against the 128-bit bound, why no smaller ring), the Galois keys, the evaluation-key
// size and the server memory estimate, and what each larger ring would cost instead.
#include "command.h"
#include "plan_cli.h"
#include "ckks/params.h"
#include "henn/planner.h"
#include "henn/schedule.h"
#include "nn/model_info.h"
#include "nn/onnx_loader.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace cryptounet;

struct InspectOptions {
  std::string model;
  int tile = 0;  // 0: the sidecar's tile, else 128
  bool json = false;
  henn::PlanOptions plan;
};

std::size_t parameter_count(const nn::Node& n) {
  return n.weight.size() + n.bias.size() + n.a.size() + n.b.size() + n.c.size();
}

// Output side of every node for a tile of side `tile` (pools and strided convolutions halve it, transposed
// convolutions double it).
std::vector<int> node_sides(const nn::Model& model, int tile) {
  std::vector<int> side(model.nodes.size(), tile);
  for (std::size_t i = 1; i < model.nodes.size(); ++i) {
    const nn::Node& n = model.nodes[i];
    side[i] = side[n.inputs[0]];
    if (nn::halves_resolution(n.op)) side[i] /= 2;
    if (nn::doubles_resolution(n.op)) side[i] *= 2;
  }
  return side;
}

nlohmann::json plan_summary(const henn::InferencePlan& plan) {
  const auto& spec = plan.spec;
  return {{"log_n", spec.log_n},
          {"levels", plan.levels},
          {"log_qp", ckks::log_qp_bits(spec)},
          {"log_qp_bound_128bit", ckks::max_log_qp_128bit(spec.log_n)},
          {"key_switching_digits", (spec.q_bits.size() + spec.p_bits.size() - 1) / spec.p_bits.size()},
          {"tiles_per_ciphertext", plan.layout.tiles_per_ciphertext},
          {"galois_keys", plan.rotation_steps.size()},
          {"evaluation_key_bytes_estimate", plan.key_bytes_estimate()},
          {"feature_map_bytes_estimate", plan.feature_map_bytes_estimate},
          {"memory_bytes_estimate", plan.memory_bytes_estimate()}};
}

void run_inspect(const InspectOptions& o) {
  const nn::Model model = nn::load_onnx(o.model);
  const std::string sidecar = nn::ModelInfo::sidecar_path(o.model);
  const int tile = o.tile > 0 ? o.tile : std::filesystem::exists(sidecar) ? nn::ModelInfo::load(sidecar).tile : 128;
  if (tile % (1 << model.pooling_depth()) != 0)
    throw std::invalid_argument(fmt::format("inspect: tile {} is not a multiple of 2^{} (the model's pooling depth)",
                                            tile, model.pooling_depth()));

  // The encrypted path's view; either can refuse (an op it cannot evaluate, or no 128-bit set that fits).
  std::optional<henn::Schedule> schedule;
  std::optional<henn::InferencePlan> plan;
  std::string refusal;
  try {
    schedule = henn::Schedule::create(model);
    plan = henn::plan_inference(model, tile, tile, o.plan);
  } catch (const std::runtime_error& e) {
    refusal = e.what();
  }

  const auto side = node_sides(model, tile);
  std::size_t parameters = 0;
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    const nn::Node& n = model.nodes[i];
    parameters += parameter_count(n);
    nlohmann::json layer = {{"index", i},          {"name", n.name},        {"op", nn::op_name(n.op)},
                            {"inputs", n.inputs},  {"channels", n.channels}, {"height", side[i]},
                            {"width", side[i]},    {"parameters", parameter_count(n)}};
    if (n.kernel > 0) layer["kernel"] = n.kernel;
    if (schedule) layer["level"] = schedule->nodes[i].levels_used;
    layers.push_back(std::move(layer));
  }

  nlohmann::json plan_json = nullptr;
  nlohmann::json larger_rings = nlohmann::json::array();
  if (plan) {
    plan_json = plan_summary(*plan);
    plan_json["q_bits"] = plan->spec.q_bits;
    plan_json["p_bits"] = plan->spec.p_bits;
    plan_json["smaller_rings_refused"] = plan->smaller_rings_refused;
    for (int log_n = plan->spec.log_n + 1; log_n <= ckks::kMaxLogN; ++log_n) {
      henn::PlanOptions forced = o.plan;
      forced.log_n = log_n;
      larger_rings.push_back(plan_summary(henn::plan_inference(model, tile, tile, forced)));
    }
    plan_json["larger_rings"] = larger_rings;
  }

  if (o.json) {
    nlohmann::json out = {{"model", model.name}, {"path", o.model},      {"tile", tile},
                          {"pooling_depth", model.pooling_depth()},     {"parameters", parameters},
                          {"layers", layers},    {"plan", plan_json}};
    if (!refusal.empty()) out["refusal"] = refusal;
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("model {} ({}): {} nodes, {} parameters, pooling depth {}, {}x{} tiles\n", model.name, o.model,
               model.nodes.size(), parameters, model.pooling_depth(), tile, tile);
    fmt::print("{:>4}  {:<28} {:<16} {:<8} {:>14} {:>3} {:>8} {:>6}\n", "#", "node", "op", "inputs", "output C x H x W",
               "k", "params", "levels");
    for (const auto& l : layers) {
      std::string inputs;
      for (const auto& in : l["inputs"]) inputs += (inputs.empty() ? "" : ",") + std::to_string(in.get<int>());
      fmt::print("{:>4}  {:<28} {:<16} {:<8} {:>14} {:>3} {:>8} {:>6}\n", l["index"].get<int>(),
                 l["name"].get<std::string>(), l["op"].get<std::string>(), inputs,
                 fmt::format("{}x{}x{}", l["channels"].get<int>(), l["height"].get<int>(), l["width"].get<int>()),
                 l.contains("kernel") ? std::to_string(l["kernel"].get<int>()) : "",
                 l["parameters"].get<std::size_t>(), l.contains("level") ? std::to_string(l["level"].get<int>()) : "");
    }
    if (plan) {
      const auto& spec = plan->spec;
      fmt::print("levels: {} (input ciphertext level; no bootstrapping)\n", plan->levels);
      fmt::print("CKKS: N = 2^{}, Q = {} x {}-bit + {} x {}-bit primes, P = {} x {}-bit, log2 QP = {:.1f} <= {} "
                 "(128-bit bound), {} key-switching digits, {} tiles per ciphertext\n",
                 spec.log_n, 1, spec.q_bits.front(), spec.q_bits.size() - 1,
                 spec.q_bits.size() > 1 ? spec.q_bits[1] : 0, spec.p_bits.size(), spec.p_bits.front(),
                 plan_json["log_qp"].get<double>(), plan_json["log_qp_bound_128bit"].get<int>(),
                 plan_json["key_switching_digits"].get<std::size_t>(), plan->layout.tiles_per_ciphertext);
      if (!plan->smaller_rings_refused.empty())
        fmt::print("smaller rings refused: {}\n", plan->smaller_rings_refused);
      fmt::print("keys: {} Galois keys + relinearization key, evaluation keys ~{:.0f} MiB (estimate)\n",
                 plan->rotation_steps.size(), plan->key_bytes_estimate() / (1 << 20));
      fmt::print("server memory: ~{:.1f} GiB = evaluation keys + {:.1f} GiB of live feature maps for {} ciphertexts "
                 "(estimate, a lower bound)\n",
                 plan->memory_bytes_estimate() / (1 << 30), plan->feature_map_bytes_estimate / (1 << 30),
                 henn::Layout::kMaxLanes);
      for (const auto& alt : larger_rings)
        fmt::print("instead at N = 2^{}: {} key-switching digits, {} tiles per ciphertext, evaluation keys ~{:.0f} MiB, "
                   "server memory ~{:.1f} GiB\n",
                   alt["log_n"].get<int>(), alt["key_switching_digits"].get<std::size_t>(),
                   alt["tiles_per_ciphertext"].get<int>(),
                   alt["evaluation_key_bytes_estimate"].get<double>() / (1 << 20),
                   alt["memory_bytes_estimate"].get<double>() / (1 << 30));
    }
  }
  if (!refusal.empty()) throw std::runtime_error("inspect: cannot run encrypted: " + refusal);
}

void setup_inspect(CLI::App& root) {
  auto opts = std::make_shared<InspectOptions>();
  auto* cmd = root.add_subcommand("inspect", "Layer table, levels, CKKS parameters and key sizes of a model");
  cmd->add_option("model", opts->model, "ONNX model")->required();
  cmd->add_option("--tile", opts->tile, "Tile side (default: the sidecar's, else 128)");
  cmd->add_flag("--json", opts->json, "One JSON object");
  app::add_plan_options(cmd, opts->plan);
  cmd->callback([opts] { run_inspect(*opts); });
}

}  // namespace

CRYPTOUNET_COMMAND(setup_inspect);
