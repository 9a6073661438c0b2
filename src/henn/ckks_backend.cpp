#include "henn/ckks_backend.h"

#include <algorithm>

namespace cryptounet::henn {

CkksBackend::CkksBackend(ckks::ContextPtr ctx, const ckks::RelinKey& relin_key, const ckks::GaloisKeys& galois_keys)
    : ctx_(ctx), encoder_(ctx), evaluator_(ctx), relin_key_(relin_key), galois_keys_(galois_keys) {}

CkksBackend::Mask CkksBackend::encode(std::span<const double> values, int level, double scale) const {
  return encoder_.encode(values, level, scale);
}

std::vector<CkksBackend::Value> CkksBackend::rotate_hoisted(const Value& v, std::span<const int> steps) const {
  std::uint64_t nonzero = 0;
  for (int s : steps) nonzero += (s % slot_count() != 0);
  if (nonzero) {
    ++counts_.hoisted_groups;
    ++counts_.mod_ups;
  }
  counts_.rotations += nonzero;
  counts_.hoisted_rotations += nonzero;
  counts_.key_switches += nonzero;
  return evaluator_.rotate_hoisted(v, steps, galois_keys_);
}

CkksBackend::Value CkksBackend::rotate(const Value& v, int step) const {
  ++counts_.rotations;
  ++counts_.mod_ups;
  ++counts_.key_switches;
  return evaluator_.rotate(v, step, galois_keys_);
}

CkksBackend::Value CkksBackend::rotate_and_sum(std::span<const Value> terms, std::span<const int> steps) const {
  std::uint64_t nonzero = 0;
  for (int s : steps) nonzero += (s % slot_count() != 0);
  if (nonzero) {
    ++counts_.rotation_sums;
    ++counts_.key_switches;
  }
  counts_.rotations += nonzero;
  counts_.summed_rotations += nonzero;
  counts_.mod_ups += nonzero;
  return evaluator_.rotate_and_sum(terms, steps, galois_keys_);
}

CkksBackend::Value CkksBackend::mul_plain(const Value& v, const Mask& m) const {
  ++counts_.mask_products;
  return evaluator_.mul_plain(v, m);
}

CkksBackend::Value CkksBackend::multiply_relin(const Value& a, const Value& b) const {
  ++counts_.relinearizations;
  ++counts_.mod_ups;
  ++counts_.key_switches;
  return evaluator_.multiply_relin(a, b, relin_key_);
}

CkksBackend::Value CkksBackend::square_relin(const Value& a) const {
  ++counts_.relinearizations;
  ++counts_.mod_ups;
  ++counts_.key_switches;
  return evaluator_.square_relin(a, relin_key_);
}

CkksBackend::Value CkksBackend::rescale(const Value& v) const {
  ++counts_.rescales;
  return evaluator_.rescale(v);
}

CkksBackend::Accumulator CkksBackend::accumulator(int level, double integer_scale) const {
  return Accumulator(ctx_, level, integer_scale);
}

void CkksBackend::accumulate(std::span<Accumulator* const> accumulators, std::span<const Value* const> terms,
                             std::span<const std::int64_t> coefficients) const {
  std::vector<ckks::LinearAccumulator*> accs;
  for (Accumulator* a : accumulators) accs.push_back(&a->acc_);
  ckks::LinearAccumulator::add_int_rows(accs, terms, coefficients);
  counts_.integer_macs += std::count_if(coefficients.begin(), coefficients.end(), [](std::int64_t c) { return c; });
}

}  // namespace cryptounet::henn
