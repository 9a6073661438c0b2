// What the encrypted layers need from a backend: PlainBackend (exact slot vectors, for layout tests in milliseconds)
// and CkksBackend (ciphertexts) both satisfy it, with the same level and scale rules, so the layer code is checked on
// the first and runs unchanged on the second.
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <vector>

namespace cryptounet::henn {

template <typename B>
concept LayerBackend = requires(const B& be, typename B::Value& target, const typename B::Value& v,
                                const typename B::Mask& mask, typename B::Accumulator& acc,
                                std::span<const double> values, std::span<const typename B::Value> terms,
                                std::span<const int> steps, int step, int level, double scale,
                                std::span<typename B::Accumulator* const> accumulators,
                                std::span<const typename B::Value* const> term_pointers,
                                std::span<const std::int64_t> coefficients) {
  // Levels and scales, read without the backend (a value carries its own).
  { B::level(v) } -> std::same_as<int>;
  { B::scale(v) } -> std::same_as<double>;
  { be.slot_count() } -> std::same_as<int>;
  { be.max_level() } -> std::same_as<int>;
  { be.prime(level) } -> std::same_as<double>;  // q_level, the prime a rescale at `level` divides by
  // Plaintexts at a chosen level and scale (CKKS rule: a mask multiplies values at its level or below).
  { be.encode(values, level, scale) } -> std::same_as<typename B::Mask>;
  { be.rotate_hoisted(v, steps) } -> std::same_as<std::vector<typename B::Value>>;
  { be.rotate(v, step) } -> std::same_as<typename B::Value>;
  // sum_t rotate(terms[t], steps[t]), terms at one level and scale (one ModDown for all on ciphertexts).
  { be.rotate_and_sum(terms, steps) } -> std::same_as<typename B::Value>;
  // Sums need equal levels and scales (within ckks::check_same_scale's tolerance).
  be.add_inplace(target, v);
  be.add_const_inplace(target, scale);
  be.add_plain_inplace(target, mask);
  { be.mul_plain(v, mask) } -> std::same_as<typename B::Value>;
  { be.multiply_relin(v, v) } -> std::same_as<typename B::Value>;
  { be.square_relin(v) } -> std::same_as<typename B::Value>;
  { be.rescale(v) } -> std::same_as<typename B::Value>;
  { be.drop_to_level(v, level) } -> std::same_as<typename B::Value>;
  // Lazy integer multiply-accumulate: sum of c_i * term_i read at scale term scale * integer_scale.
  { be.accumulator(level, scale) } -> std::same_as<typename B::Accumulator>;
  // accumulators[r] += sum_t coefficients[r * terms + t] * term_pointers[t]; a zero coefficient costs nothing but
  // counts as a term (an output whose weights are all zero finishes to zero at the right level and scale).
  be.accumulate(accumulators, term_pointers, coefficients);
  { be.finish(static_cast<typename B::Accumulator&&>(acc)) } -> std::same_as<typename B::Value>;
};

}  // namespace cryptounet::henn
