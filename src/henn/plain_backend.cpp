#include "henn/plain_backend.h"

#include "ckks/evaluator.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cryptounet::henn {

namespace {

// The CKKS evaluator's rule for sums: equal levels, scales equal within ckks::check_same_scale's tolerance.
void check_same(double s1, double s2, int l1, int l2, const char* op) {
  if (l1 != l2) throw std::invalid_argument(std::string(op) + ": level mismatch " + std::to_string(l1) + " vs " +
                                            std::to_string(l2));
  ckks::check_same_scale(s1, s2, op);
}

std::vector<double> padded(std::span<const double> values, int slots) {
  if (values.size() > static_cast<std::size_t>(slots)) throw std::invalid_argument("plain backend: too many values");
  std::vector<double> v(values.begin(), values.end());
  v.resize(slots, 0.0);
  return v;
}

}  // namespace

// ckks::LinearAccumulator's rules: |c| < 2^31, terms at or above its level, all at one scale.
void PlainBackend::Accumulator::add(const Value& term, std::int64_t c) {
  if (c <= -(std::int64_t{1} << 31) || c >= (std::int64_t{1} << 31))
    throw std::invalid_argument("accumulator: |c| must be < 2^31, got " + std::to_string(c));
  if (term.level < level_) throw std::invalid_argument("accumulator: term below the accumulator's level");
  const double result_scale = term.scale * integer_scale_;
  if (scale_ == 0.0)
    scale_ = result_scale;
  else
    ckks::check_same_scale(scale_, result_scale, "accumulator");
  const double cd = static_cast<double>(c);
  for (std::size_t i = 0; i < sum_.size(); ++i) sum_[i] += cd * term.slots[i];
}

PlainBackend::Value PlainBackend::encrypt(std::span<const double> values, int level, double scale) const {
  return Value{padded(values, slots_), level, scale};
}

PlainBackend::Mask PlainBackend::encode(std::span<const double> values, int level, double scale) const {
  return Mask{padded(values, slots_), level, scale};
}

PlainBackend::Value PlainBackend::rotate(const Value& v, int step) const {
  Value r{std::vector<double>(slots_), v.level, v.scale};
  const int n = slots_;
  for (int i = 0; i < n; ++i) r.slots[i] = v.slots[((i + step) % n + n) % n];
  return r;
}

std::vector<PlainBackend::Value> PlainBackend::rotate_hoisted(const Value& v, std::span<const int> steps) const {
  std::vector<Value> out;
  out.reserve(steps.size());
  for (int s : steps) out.push_back(rotate(v, s));
  return out;
}

// As ckks::Evaluator::rotate_and_sum: one step per term, all terms at one level and scale.
PlainBackend::Value PlainBackend::rotate_and_sum(std::span<const Value> terms, std::span<const int> steps) const {
  if (terms.empty() || terms.size() != steps.size())
    throw std::invalid_argument("rotate_and_sum: needs one step per term, at least one term");
  Value sum = rotate(terms[0], steps[0]);
  for (std::size_t t = 1; t < terms.size(); ++t) add_inplace(sum, rotate(terms[t], steps[t]));
  return sum;
}

void PlainBackend::add_inplace(Value& a, const Value& b) const {
  check_same(a.scale, b.scale, a.level, b.level, "add");
  for (std::size_t i = 0; i < a.slots.size(); ++i) a.slots[i] += b.slots[i];
}

void PlainBackend::add_const_inplace(Value& a, double c) const {
  for (double& x : a.slots) x += c;
}

void PlainBackend::add_plain_inplace(Value& a, const Mask& m) const {
  check_same(a.scale, m.scale, a.level, m.level, "add_plain");
  for (std::size_t i = 0; i < a.slots.size(); ++i) a.slots[i] += m.slots[i];
}

// As ckks::Evaluator::mul_plain: a plaintext multiplies ciphertexts at its level or below.
PlainBackend::Value PlainBackend::mul_plain(const Value& v, const Mask& m) const {
  if (m.level < v.level) throw std::invalid_argument("mul_plain: plaintext below the ciphertext's level");
  Value r{v.slots, v.level, v.scale * m.scale};
  for (std::size_t i = 0; i < r.slots.size(); ++i) r.slots[i] *= m.slots[i];
  return r;
}

PlainBackend::Value PlainBackend::multiply_relin(const Value& a, const Value& b) const {
  if (a.level != b.level) throw std::invalid_argument("multiply: level mismatch");
  Value r{a.slots, a.level, a.scale * b.scale};
  for (std::size_t i = 0; i < r.slots.size(); ++i) r.slots[i] *= b.slots[i];
  return r;
}

PlainBackend::Value PlainBackend::rescale(const Value& v) const {
  if (v.level <= 0) throw std::invalid_argument("rescale: no level left");
  return Value{v.slots, v.level - 1, v.scale / prime(v.level)};
}

PlainBackend::Value PlainBackend::drop_to_level(const Value& v, int level) const {
  if (level > v.level) throw std::invalid_argument("drop_to_level: target above the current level");
  return Value{v.slots, level, v.scale};
}

PlainBackend::Accumulator PlainBackend::accumulator(int level, double integer_scale) const {
  Accumulator acc;
  acc.level_ = level;
  acc.integer_scale_ = integer_scale;
  acc.sum_.assign(slots_, 0.0);
  return acc;
}

void PlainBackend::accumulate(std::span<Accumulator* const> accumulators, std::span<const Value* const> terms,
                              std::span<const std::int64_t> coefficients) const {
  if (coefficients.size() != accumulators.size() * terms.size())
    throw std::invalid_argument("accumulate: coefficient count does not match accumulators x terms");
  for (std::size_t r = 0; r < accumulators.size(); ++r)
    for (std::size_t t = 0; t < terms.size(); ++t)
      accumulators[r]->add(*terms[t], coefficients[r * terms.size() + t]);
}

PlainBackend::Value PlainBackend::finish(Accumulator&& acc) const {
  if (acc.scale_ == 0.0) throw std::logic_error("accumulator: no terms were added");
  Value r{std::move(acc.sum_), acc.level_, acc.scale_};
  for (double& x : r.slots) x /= acc.integer_scale_;
  return r;
}

}  // namespace cryptounet::henn
