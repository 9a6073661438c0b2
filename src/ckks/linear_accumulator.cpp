#include "ckks/linear_accumulator.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "ckks/evaluator.h"
#include "ckks/vector_ops.h"

namespace cryptounet::ckks {

LinearAccumulator::LinearAccumulator(ContextPtr ctx, int level, double integer_scale)
    : ctx_(std::move(ctx)), level_(level), integer_scale_(integer_scale) {
  if (level < 0 || level > ctx_->max_level())
    throw std::invalid_argument("LinearAccumulator: level " + std::to_string(level) + " out of range");
  if (!(integer_scale > 0)) throw std::invalid_argument("LinearAccumulator: integer_scale must be positive");
  acc_.resize(2 * static_cast<size_t>(level + 1) * ctx_->poly_degree());  // zeroed limb by limb on first use
  bound_.assign(level + 1, 0);
}

void LinearAccumulator::reset() {
  std::fill(bound_.begin(), bound_.end(), 0);
  terms_ = 0;
  scale_ = 0;
}

void LinearAccumulator::check_term(const Ciphertext& ct, double result_scale) {
  if (ct.poly_degree() != ctx_->poly_degree() || ct.level() < level_)
    throw std::invalid_argument("LinearAccumulator: term at level " + std::to_string(ct.level()) +
                                " is below the accumulator level " + std::to_string(level_));
  if (terms_ == 0)
    scale_ = result_scale;
  else
    check_same_scale(scale_, result_scale, "LinearAccumulator");
}

// Makes room in a limb for a term bounded by term_bound: zeroes the limb before its first term (bound 0: nothing
// accumulated yet, so a fresh or reset accumulator costs no pass over memory), and reduces it to [0, q) when the
// term could overflow 64 bits.
void LinearAccumulator::reserve_headroom(int limb, uint64_t term_bound) {
  const size_t n = ctx_->poly_degree(), limbs = static_cast<size_t>(level_) + 1;
  if (bound_[limb] == 0) {
    for (int poly = 0; poly < 2; ++poly) std::fill_n(acc_.data() + (poly * limbs + limb) * n, n, uint64_t{0});
  }
  if (bound_[limb] <= std::numeric_limits<uint64_t>::max() - term_bound) {
    bound_[limb] += term_bound;
    return;
  }
  const Modulus& mod = ctx_->modulus(limb);
  for (int poly = 0; poly < 2; ++poly) {
    uint64_t* a = acc_.data() + (poly * limbs + limb) * n;
    for (size_t k = 0; k < n; ++k) a[k] = mod.reduce(a[k]);
  }
  bound_[limb] = mod.value - 1 + term_bound;
}

void LinearAccumulator::add_int(const Ciphertext& ct, int64_t c) {
  if (c <= -(int64_t{1} << 31) || c >= (int64_t{1} << 31))
    throw std::invalid_argument("LinearAccumulator::add_int: |c| must be < 2^31, got " + std::to_string(c));
  check_term(ct, ct.scale() * integer_scale_);
  const size_t n = ctx_->poly_degree(), limbs = static_cast<size_t>(level_) + 1;
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level_; ++i) {
    const Modulus& mod = ctx_->modulus(i);
    reserve_headroom(i, 2 * mod.value);
    const uint64_t w = mod.reduce_signed(c);
    for (int poly = 0; poly < 2; ++poly)
      mul_scalar_add_lazy_vec(ct.limb(poly, i), w, acc_.data() + (poly * limbs + i) * n, n, mod);
  }
  ++terms_;
}

void LinearAccumulator::add_plain(const Ciphertext& ct, const Plaintext& pt) {
  if (pt.poly_degree() != ctx_->poly_degree() || pt.level() < level_)
    throw std::invalid_argument("LinearAccumulator::add_plain: plaintext level " + std::to_string(pt.level()) +
                                " is below the accumulator level " + std::to_string(level_));
  check_term(ct, ct.scale() * pt.scale());
  const size_t n = ctx_->poly_degree(), limbs = static_cast<size_t>(level_) + 1;
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level_; ++i) {
    const Modulus& mod = ctx_->modulus(i);
    reserve_headroom(i, mod.value);
    for (int poly = 0; poly < 2; ++poly)
      mul_add_lazy_vec(ct.limb(poly, i), pt.limb(i), acc_.data() + (poly * limbs + i) * n, n, mod);
  }
  ++terms_;
}

Ciphertext LinearAccumulator::finish() {
  if (terms_ == 0) throw std::logic_error("LinearAccumulator::finish: no terms were added");
  const size_t n = ctx_->poly_degree(), limbs = static_cast<size_t>(level_) + 1;
  Ciphertext ct(n, level_, scale_, NoInit{});
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level_; ++i) {
    const Modulus& mod = ctx_->modulus(i);
    for (int poly = 0; poly < 2; ++poly) {
      const uint64_t* a = acc_.data() + (poly * limbs + i) * n;
      uint64_t* out = ct.limb(poly, i);
      for (size_t k = 0; k < n; ++k) out[k] = mod.reduce(a[k]);
    }
  }
  reset();
  return ct;
}

}  // namespace cryptounet::ckks
