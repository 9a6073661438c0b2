#include "henn/planner.h"

#include "henn/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cryptounet::henn {

namespace {

// Key-switching digits of a key over q_limbs primes of Q with alpha primes per digit (ckks::Parameters::digit_count).
int digit_count(int q_limbs, int alpha) { return (q_limbs + alpha - 1) / alpha; }

// Bits of the largest key-switching digit of a chain with alpha primes per digit.
int largest_digit_bits(const std::vector<int>& q_bits, int alpha) {
  int largest = 0;
  for (std::size_t start = 0; start < q_bits.size(); start += alpha) {
    int bits = 0;
    for (std::size_t i = start; i < std::min(q_bits.size(), start + alpha); ++i) bits += q_bits[i];
    largest = std::max(largest, bits);
  }
  return largest;
}

// At most this many key-switching digits: a key is digits x (limbs of Q + alpha) limbs, and the key inner product
// sums the digits on the IFMA kernels only up to 16 (ckks/vector_ops.h); a ring that leaves room only for more
// (alpha of 1 or 2 primes) is passed over for the next, whose keys are smaller.
constexpr int kMaxDigits = 16;

// Key size (and key-switching work) ~ digits * (limbs of Q + alpha): pick the alpha that minimizes it within the
// remaining bit budget, among those whose P = alpha special primes has at least the bits of every digit (the
// key-switching noise is ~ digit / P times the key's error) and that give at most kMaxDigits digits. 0 when none.
int best_digit_size(const std::vector<int>& q_bits, int special_bits, int max_alpha) {
  const int q_limbs = static_cast<int>(q_bits.size());
  int best = 0;
  long best_cost = -1;
  for (int alpha = 1; alpha <= std::min(q_limbs, max_alpha); ++alpha) {
    if (alpha * special_bits < largest_digit_bits(q_bits, alpha)) continue;
    const long digits = digit_count(q_limbs, alpha);
    if (digits > kMaxDigits) continue;
    const long cost = digits * (q_limbs + alpha);
    if (best_cost < 0 || cost <= best_cost) best = alpha, best_cost = cost;
  }
  return best;
}

// Bytes of the feature maps alive at the busiest point of the network for one group of `lanes` input ciphertexts:
// while node i runs, every earlier map that a node from i on still reads, with the limbs its readers keep
// (Schedule::depth_needed_after), and node i's output.
double feature_map_bytes(const nn::Model& model, const Schedule& schedule, int log_n, int lanes) {
  const int count = static_cast<int>(model.nodes.size());
  auto bytes = [&](int j, int depth) {
    const int ciphertexts = model.nodes[j].channels * (schedule.nodes[j].interleaved ? 1 : lanes);
    return ciphertexts * 2.0 * (schedule.levels - depth + 1) * std::ldexp(8.0, log_n);
  };
  double peak = 0;
  for (int i = 0; i < count; ++i) {
    double live = bytes(i, schedule.nodes[i].levels_used);
    for (int j = 0; j < i; ++j)
      if (const int depth = schedule.depth_needed_after(j, i - 1); depth >= 0) live += bytes(j, depth);
    peak = std::max(peak, live);
  }
  return peak;
}

}  // namespace

InferencePlan plan_inference(const nn::Model& model, int tile_height, int tile_width, const PlanOptions& options) {
  const Schedule schedule = Schedule::create(model);
  InferencePlan plan;
  plan.levels = schedule.levels;
  const int q_bits = options.base_bits + schedule.levels * options.scale_bits;
  const int first = options.log_n ? options.log_n : ckks::kMinLogN;
  const int last = options.log_n ? options.log_n : ckks::kMaxLogN;
  const int block = Layout::block_size(tile_height, tile_width);
  std::string tried;
  for (int log_n = first; log_n <= last; ++log_n) {
    const int bound = ckks::max_log_qp_128bit(log_n);
    const int room = bound - q_bits;
    const int slots = 1 << (log_n - 1);
    if (room < options.special_bits) {
      tried += fmt::format(" N=2^{}: {} bits of Q + {} of P > bound {};", log_n, q_bits, options.special_bits, bound);
      continue;
    }
    if (block > slots) {
      tried += fmt::format(" N=2^{}: a tile needs {} slots > {};", log_n, block, slots);
      continue;
    }
    std::vector<int> chain(1, options.base_bits);
    chain.insert(chain.end(), schedule.levels, options.scale_bits);
    const int alpha = best_digit_size(chain, options.special_bits, room / options.special_bits);
    if (alpha == 0) {
      tried += fmt::format(" N=2^{}: {} bits left for P, too few {}-bit special primes for at most {} key-switching "
                           "digits;", log_n, room, options.special_bits, kMaxDigits);
      continue;
    }
    plan.smaller_rings_refused = tried.empty() ? tried : tried.substr(1, tried.size() - 2);
    plan.spec.log_n = log_n;
    plan.spec.q_bits = std::move(chain);
    plan.spec.p_bits.assign(alpha, options.special_bits);
    plan.layout = Layout::create(tile_height, tile_width, slots, model.pooling_depth());
    plan.rotation_steps = schedule.rotation_steps(model, plan.layout);
    for (int depth : schedule.rotation_depths(model, plan.layout)) plan.rotation_levels.push_back(plan.levels - depth);
    plan.relin_level = plan.levels - schedule.relinearization_depth();
    plan.layer = LayerOptions::for_scale_bits(options.scale_bits, options.weight_bits);
    plan.input_scale = std::ldexp(1.0, options.scale_bits - kInputScaleMarginBits);
    plan.feature_map_bytes_estimate = feature_map_bytes(model, schedule, log_n, Layout::kMaxLanes);
    return plan;
  }
  throw std::runtime_error(fmt::format(
      "model '{}' does not fit at 128-bit security: it needs {} levels ({}x{} tiles);{} use fewer levels "
      "(shallower model) or smaller scaling primes",
      model.name, schedule.levels, tile_height, tile_width, tried));
}

double InferencePlan::key_bytes_estimate() const {
  const double n = std::ldexp(1.0, spec.log_n);
  const int p = static_cast<int>(spec.p_bits.size());
  auto key_bytes = [&](int level) { return digit_count(level + 1, p) * 2.0 * (level + 1 + p) * n * 8; };
  double total = key_bytes(relin_level);
  for (int level : rotation_levels) total += key_bytes(level);
  return total;
}

std::string InferencePlan::describe() const {
  double bits = 0;
  for (int b : spec.q_bits) bits += b;
  for (int b : spec.p_bits) bits += b;
  return fmt::format(
      "N=2^{}, {} levels, Q = {} primes + P = {} x {}-bit ({} bits, bound {}), {} key-switching digits, "
      "{}x{} tiles, {} per ciphertext, {} Galois keys (~{:.0f} MiB of evaluation keys, ~{:.1f} GiB with the feature "
      "maps)",
      spec.log_n, levels, spec.q_bits.size(), spec.p_bits.size(), spec.p_bits.empty() ? 0 : spec.p_bits[0], bits,
      ckks::max_log_qp_128bit(spec.log_n),
      digit_count(static_cast<int>(spec.q_bits.size()), static_cast<int>(spec.p_bits.size())), layout.height,
      layout.width, layout.tiles_per_ciphertext, rotation_steps.size(), key_bytes_estimate() / (1 << 20),
      memory_bytes_estimate() / (1 << 30));
}

}  // namespace cryptounet::henn
