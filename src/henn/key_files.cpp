#include "henn/key_bundle.h"

#include "ckks/serialization.h"
#include "henn/file_magic.h"
#include "henn/wire.h"

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <string>
#include <vector>
#include <stdexcept>

namespace cryptounet::henn {

namespace {

std::ifstream open_in(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return in;
}

std::ofstream open_out(const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  return out;
}

void close_checked(std::ofstream& out, const std::string& path) {
  out.close();
  if (!out) throw std::runtime_error("error while writing " + path);
}

// The plan and its parameters, without building a context.
std::pair<InferencePlan, ckks::Parameters> read_plan(std::istream& in) {
  wire::expect_magic(in, magic::kPlan, magic::kKeyFileVersion, "inference plan");
  InferencePlan plan;
  const int h = wire::get_in_range<std::int32_t>(in, "tile height", 1, 1 << 14);
  const int w = wire::get_in_range<std::int32_t>(in, "tile width", 1, 1 << 14);
  const int block = wire::get<std::int32_t>(in, "block");
  const int slots = wire::get_in_range<std::int32_t>(in, "slots", 1, 1 << 16);
  const int batch = wire::get<std::int32_t>(in, "batch");
  plan.levels = wire::get_in_range<std::int32_t>(in, "depth", 0, 200);
  plan.layer.weight_bits = wire::get_in_range<std::int32_t>(in, "weight bits", 1, 30);
  plan.layer.output_scale = wire::get_in_range<double>(in, "output scale", 1.0, 0x1p100);
  plan.layer.square_input_scale = wire::get_in_range<double>(in, "square input scale", 1.0, 0x1p100);
  plan.layer.max_square_shift = wire::get_in_range<double>(in, "max square shift", 0.0, 1e6);
  plan.input_scale = wire::get_in_range<double>(in, "input scale", 1.0, 0x1p100);
  const auto n_steps = wire::get_in_range<std::uint32_t>(in, "rotation step count", 0, 1 << 16);
  for (std::uint32_t i = 0; i < n_steps; ++i) plan.rotation_steps.push_back(wire::get<std::int32_t>(in, "step"));
  for (std::uint32_t i = 0; i < n_steps; ++i)
    plan.rotation_levels.push_back(wire::get_in_range<std::int32_t>(in, "rotation key level", 0, plan.levels));
  plan.relin_level = wire::get_in_range<std::int32_t>(in, "relinearization key level", 0, plan.levels);
  auto params = ckks::load_parameters(in);
  plan.spec = params.spec();
  try {
    plan.layout = Layout::create(h, w, slots, 0);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("corrupted inference plan: ") + e.what());
  }
  if (plan.layout.block != block || plan.layout.tiles_per_ciphertext != batch ||
      static_cast<std::size_t>(slots) != params.poly_degree() / 2)
    throw std::runtime_error("corrupted inference plan: layout does not match the parameters");
  if (plan.levels > params.max_level())
    throw std::runtime_error("corrupted inference plan: " + std::to_string(plan.levels) + " levels, the parameters hold " +
                             std::to_string(params.max_level()));
  return {std::move(plan), std::move(params)};
}

// Galois keys an evaluation-key file must hold besides the relinearization key: one per distinct non-zero rotation
// step modulo the slot count (the steps name the same automorphism exactly when they agree modulo it), at the highest
// level the plan gives any of those steps; by step as the plan names it first.
std::map<int, int> planned_galois_levels(const InferencePlan& plan, const ckks::Parameters& params) {
  const auto slots = static_cast<std::int64_t>(params.poly_degree() / 2);
  std::map<std::int64_t, std::pair<int, int>> by_rotation;  // step mod slots -> (step, level)
  for (std::size_t i = 0; i < plan.rotation_steps.size(); ++i) {
    const std::int64_t r = ((plan.rotation_steps[i] % slots) + slots) % slots;
    if (r == 0) continue;
    const auto [it, fresh] = by_rotation.emplace(r, std::pair{plan.rotation_steps[i], plan.rotation_levels[i]});
    if (!fresh) it->second.second = std::max(it->second.second, plan.rotation_levels[i]);
  }
  std::map<int, int> levels;
  for (const auto& [r, step_level] : by_rotation) levels.insert(step_level);
  return levels;
}

// A key must serve exactly the levels the plan gives it: fewer would fail during inference, more is memory for
// nothing.
void check_key_level(const ckks::KeySwitchKey& key, int planned, const std::string& what) {
  if (key.level != planned)
    throw std::runtime_error("evaluation keys: the " + what + " serves levels up to " + std::to_string(key.level) +
                             ", the plan gives it " + std::to_string(planned));
}

std::uint64_t bytes_after(std::ifstream& in, const std::string& path) {
  const auto here = in.tellg();
  const auto size = std::filesystem::file_size(path);
  if (here < 0 || static_cast<std::uint64_t>(here) > size) throw std::runtime_error("cannot read " + path);
  return size - static_cast<std::uint64_t>(here);
}

}  // namespace

void save_plan(std::ostream& out, const InferencePlan& plan, const ckks::Parameters& params) {
  wire::put_magic(out, magic::kPlan, magic::kKeyFileVersion);
  const Layout& l = plan.layout;
  for (int v : {l.height, l.width, l.block, l.slots, l.tiles_per_ciphertext, plan.levels, plan.layer.weight_bits})
    wire::put<std::int32_t>(out, v);
  wire::put<double>(out, plan.layer.output_scale);
  wire::put<double>(out, plan.layer.square_input_scale);
  wire::put<double>(out, plan.layer.max_square_shift);
  wire::put<double>(out, plan.input_scale);
  if (plan.rotation_levels.size() != plan.rotation_steps.size())
    throw std::invalid_argument("save_plan: one key level per rotation step");
  wire::put<std::uint32_t>(out, static_cast<std::uint32_t>(plan.rotation_steps.size()));
  for (int s : plan.rotation_steps) wire::put<std::int32_t>(out, s);
  for (int level : plan.rotation_levels) wire::put<std::int32_t>(out, level);
  wire::put<std::int32_t>(out, plan.relin_level);
  ckks::save(out, params);
}

std::pair<InferencePlan, ckks::ContextPtr> load_plan(std::istream& in) {
  auto [plan, params] = read_plan(in);
  return {std::move(plan), ckks::Context::create(params)};
}

void save_client_keys(const std::string& dir, const ClientKeys& keys, ckks::IfExists existing) {
  std::filesystem::create_directories(dir);
  ckks::save_secret_key(dir + "/secret.key", *keys.context, keys.secret, existing);
  const std::string path = dir + "/public.bin";
  auto out = open_out(path);
  wire::put_magic(out, magic::kPublicKey, magic::kKeyFileVersion);
  save_plan(out, keys.plan, keys.context->parameters());
  ckks::save(out, *keys.context, keys.public_key);
  close_checked(out, path);
}

ClientKeys load_client_keys(const std::string& dir) {
  auto in = open_in(dir + "/public.bin");
  wire::expect_magic(in, magic::kPublicKey, magic::kKeyFileVersion, "public key");
  auto [plan, context] = load_plan(in);
  ClientKeys keys{std::move(plan), context, {}, ckks::load_public_key(in, *context)};
  ckks::expect_end_of_input(in);
  keys.secret = ckks::load_secret_key(dir + "/secret.key", *context);
  return keys;
}

void save_evaluation_keys(const std::string& path, const EvaluationKeys& keys) {
  auto out = open_out(path);
  wire::put_magic(out, magic::kEvaluationKeys, magic::kKeyFileVersion);
  save_plan(out, keys.plan, keys.context->parameters());
  ckks::save(out, *keys.context, keys.relin);
  ckks::save(out, *keys.context, keys.galois);
  close_checked(out, path);
}

EvaluationKeys load_evaluation_keys(const std::string& path) {
  auto in = open_in(path);
  auto [plan, params] = read_evaluation_keys_header(in);
  const auto galois_levels = planned_galois_levels(plan, params);
  std::uint64_t needed = ckks::switch_key_bytes(params, plan.relin_level);
  for (const auto& [step, level] : galois_levels) needed += ckks::switch_key_bytes(params, level);
  if (const auto left = bytes_after(in, path); left < needed)
    throw std::runtime_error(path + ": " + std::to_string(left) + " bytes of keys, the plan needs at least " +
                             std::to_string(needed));
  const auto context = ckks::Context::create(params);
  EvaluationKeys keys{std::move(plan), context, ckks::load_relin_key(in, *context), {}};
  check_key_level(keys.relin, keys.plan.relin_level, "relinearization key");
  keys.galois = ckks::load_galois_keys(in, *context);
  ckks::expect_end_of_input(in);
  if (keys.galois.keys.size() != galois_levels.size())
    throw std::runtime_error(path + ": " + std::to_string(keys.galois.keys.size()) + " Galois keys, the plan needs " +
                             std::to_string(galois_levels.size()));
  for (const auto& [step, level] : galois_levels) {
    const std::uint64_t g = context->galois_element(step);
    if (!keys.galois.has(g))
      throw std::runtime_error(path + ": no Galois key for rotation step " + std::to_string(step));
    check_key_level(keys.galois.keys.at(g), level, "Galois key for rotation step " + std::to_string(step));
  }
  return keys;
}

std::pair<InferencePlan, ckks::Parameters> read_evaluation_keys_header(std::istream& in) {
  wire::expect_magic(in, magic::kEvaluationKeys, magic::kKeyFileVersion, "evaluation key");
  return read_plan(in);
}

InferencePlan load_evaluation_key_plan(const std::string& path) {
  auto in = open_in(path);
  return read_evaluation_keys_header(in).first;
}

}  // namespace cryptounet::henn
