#include "ckks/linear_accumulator.h"

#include <algorithm>
#include <array>
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

// Makes room in a limb for terms adding up to term_bound: reduces it to [0, q) when they could overflow 64 bits.
// Returns whether the limb was empty (bound 0: nothing accumulated yet, its memory not even zeroed, so a fresh or
// reset accumulator costs no pass over memory): the caller then writes the limb instead of adding to it.
bool LinearAccumulator::reserve_headroom(int limb, uint64_t term_bound) {
  const size_t n = ctx_->poly_degree(), limbs = static_cast<size_t>(level_) + 1;
  const bool empty = bound_[limb] == 0;
  if (bound_[limb] <= std::numeric_limits<uint64_t>::max() - term_bound) {
    bound_[limb] += term_bound;
    return empty;
  }
  const Modulus& mod = ctx_->modulus(limb);
  for (int poly = 0; poly < 2; ++poly) {
    uint64_t* a = acc_.data() + (poly * limbs + limb) * n;
    reduce_vec(a, a, n, mod);
  }
  bound_[limb] = mod.value - 1 + term_bound;
  return false;
}

void LinearAccumulator::add_int(const Ciphertext& ct, int64_t c) {
  LinearAccumulator* self = this;
  const Ciphertext* term = &ct;
  add_int_rows({&self, 1}, {&term, 1}, {&c, 1});
}

void LinearAccumulator::add_int_rows(std::span<LinearAccumulator* const> accs, std::span<const Ciphertext* const> terms,
                                     std::span<const int64_t> coefficients) {
  if (coefficients.size() != accs.size() * terms.size())
    throw std::invalid_argument("LinearAccumulator::add_int_rows: " + std::to_string(coefficients.size()) +
                                " coefficients for " + std::to_string(accs.size()) + " x " +
                                std::to_string(terms.size()));
  if (accs.empty() || terms.empty()) return;
  for (int64_t c : coefficients)
    if (c <= -(int64_t{1} << 31) || c >= (int64_t{1} << 31))
      throw std::invalid_argument("LinearAccumulator::add_int: |c| must be < 2^31, got " + std::to_string(c));
  const Context& ctx = *accs.front()->ctx_;
  const int level = accs.front()->level_;
  const size_t rows = accs.size(), columns = terms.size();
  for (size_t r = 0; r < rows; ++r) {
    if (accs[r]->ctx_.get() != &ctx || accs[r]->level_ != level)
      throw std::invalid_argument("LinearAccumulator::add_int_rows: accumulators of different levels or contexts");
    for (size_t t = 0; t < columns; ++t) accs[r]->check_term(*terms[t], terms[t]->scale() * accs[r]->integer_scale_);
  }
  const size_t n = ctx.poly_degree(), limbs = static_cast<size_t>(level) + 1;
  // Columns per pass: the sums of a pass (one per 16 terms, each < q) must fit the 64-bit headroom of a reduced
  // limb for any q < 2^61.
  constexpr size_t kColumnsPerPass = 7 * kMaxWeightedTerms;
  const size_t block = std::min<size_t>(n, 512);  // coefficients per block: the terms' blocks stay in L2
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level; ++i) {
    const Modulus& mod = ctx.modulus(i);
    std::vector<uint64_t> weight(coefficients.size());
    for (size_t k = 0; k < coefficients.size(); ++k)
      weight[k] = coefficients[k] == 0 ? 0 : mod.reduce_signed(coefficients[k]);
    std::array<const uint64_t*, kMaxWeightedTerms> x;
    std::array<uint64_t, kMaxWeightedTerms> w;
    for (size_t first = 0; first < columns; first += kColumnsPerPass) {
      const size_t last = std::min(columns, first + kColumnsPerPass);
      std::vector<bool> empty(rows, false);  // the row's limb holds nothing yet: its first sum writes it
      for (size_t r = 0; r < rows; ++r) {
        size_t nonzero = 0;
        for (size_t t = first; t < last; ++t) nonzero += coefficients[r * columns + t] != 0;
        if (nonzero)
          empty[r] = accs[r]->reserve_headroom(i, (nonzero + kMaxWeightedTerms - 1) / kMaxWeightedTerms * mod.value);
      }
      for (int poly = 0; poly < 2; ++poly) {
        for (size_t k0 = 0; k0 < n; k0 += block) {
          for (size_t r = 0; r < rows; ++r) {
            uint64_t* acc = accs[r]->acc_.data() + (poly * limbs + i) * n + k0;
            bool accumulate = !empty[r];
            int count = 0;
            for (size_t t = first; t < last; ++t) {
              if (coefficients[r * columns + t] == 0) continue;
              x[count] = terms[t]->limb(poly, i) + k0;
              w[count] = weight[r * columns + t];
              if (++count == kMaxWeightedTerms) {
                weighted_sum_lazy_vec(x.data(), w.data(), count, acc, block, mod, accumulate);
                accumulate = true;
                count = 0;
              }
            }
            if (count) weighted_sum_lazy_vec(x.data(), w.data(), count, acc, block, mod, accumulate);
          }
        }
      }
    }
  }
  for (size_t r = 0; r < rows; ++r) accs[r]->terms_ += columns;
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
    if (reserve_headroom(i, mod.value))
      for (int poly = 0; poly < 2; ++poly) std::fill_n(acc_.data() + (poly * limbs + i) * n, n, uint64_t{0});
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
      if (bound_[i] == 0)  // only zero terms: nothing was written
        std::fill_n(ct.limb(poly, i), n, uint64_t{0});
      else
        reduce_vec(acc_.data() + (poly * limbs + i) * n, ct.limb(poly, i), n, mod);
    }
  }
  reset();
  return ct;
}

}  // namespace cryptounet::ckks
