#include "ckks/context.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "ckks/buffer.h"
#include "ckks/vector_ops.h"

namespace cryptounet::ckks {

namespace {

BaseConverter make_converter(const std::vector<Modulus>& moduli, std::vector<int> source) {
  BaseConverter c;
  c.source = std::move(source);
  const size_t s = c.source.size();
  for (size_t i = 0; i < s; ++i) {
    const uint64_t qi = moduli[c.source[i]].value;
    uint64_t hat = 1;
    for (size_t k = 0; k < s; ++k) {
      if (k != i) hat = moduli[c.source[i]].mul(hat, moduli[c.source[k]].value % qi);
    }
    c.inv_hat.push_back(inv_mod(hat, qi));
    c.inv_hat_shoup.push_back(shoup_precompute(c.inv_hat.back(), qi));
  }
  c.hat_mod.assign(moduli.size() * s, 0);
  for (size_t t = 0; t < moduli.size(); ++t) {
    for (size_t i = 0; i < s; ++i) {
      uint64_t hat = 1 % moduli[t].value;
      for (size_t k = 0; k < s; ++k) {
        if (k != i) hat = moduli[t].mul(hat, moduli[t].reduce(moduli[c.source[k]].value));
      }
      c.hat_mod[t * s + i] = hat;
    }
  }
  c.product_mod.assign(moduli.size(), 0);
  for (size_t t = 0; t < moduli.size(); ++t) {
    uint64_t product = 1 % moduli[t].value;
    for (size_t k = 0; k < s; ++k) product = moduli[t].mul(product, moduli[t].reduce(moduli[c.source[k]].value));
    c.product_mod[t] = product;
  }
  return c;
}

}  // namespace

void BaseConverter::convert(const Context& ctx, const uint64_t* src, const std::vector<int>& targets,
                            const std::vector<uint64_t*>& dst, bool centered) const {
  const size_t n = ctx.poly_degree(), s = source.size();
  constexpr int kPartBits = 50;
  constexpr uint64_t kPart = uint64_t{1} << kPartBits;
  // y_i = [x_i * (S/s_i)^-1]_{s_i}. Every term of the sums below must be < 2^50 (weighted_sum_lazy_vec): a y_i of
  // a larger prime is split into y_lo + 2^50 * y_hi.
  LimbBuffer y(s * n), y_hi;
  std::vector<const uint64_t*> columns;  // the sum's terms: y_i, y_hi of the split ones, then the multiples
  std::vector<int> column_source;        // their source index i
  std::vector<bool> column_high;         // whether a column is a y_hi (weight hat * 2^50)
  for (size_t i = 0; i < s; ++i) {
    columns.push_back(y.data() + i * n);
    column_source.push_back(static_cast<int>(i));
    column_high.push_back(false);
  }
  for (size_t i = 0; i < s; ++i) {
    if (ctx.prime(source[i]) <= kPart) continue;
    if (y_hi.empty()) y_hi.resize(s * n);
    columns.push_back(y_hi.data() + i * n);
    column_source.push_back(static_cast<int>(i));
    column_high.push_back(true);
  }
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < s; ++i) {
    uint64_t* yi = y.data() + i * n;
    const uint64_t* xi = src + i * n;
    weighted_sum_lazy_vec(&xi, &inv_hat[i], 1, yi, n, ctx.modulus(source[i]), /*accumulate=*/false);
    if (ctx.prime(source[i]) <= kPart) continue;
    uint64_t* hi = y_hi.data() + i * n;
    for (size_t k = 0; k < n; ++k) {
      hi[k] = yi[k] >> kPartBits;
      yi[k] &= kPart - 1;
    }
  }
  // multiples[k] = round(sum_i y_i / s_i): subtracting multiples[k] * S gives the centered representative.
  LimbBuffer multiples;
  if (centered) {
    multiples.resize(n);
    std::vector<double> factor(columns.size());  // 1 / s_i, times 2^50 for a y_hi
    for (size_t c = 0; c < columns.size(); ++c)
      factor[c] = (column_high[c] ? 0x1.0p50 : 1.0) / static_cast<double>(ctx.prime(source[column_source[c]]));
#pragma omp parallel for schedule(static)
    for (size_t k = 0; k < n; ++k) {
      double v = 0;
      for (size_t c = 0; c < columns.size(); ++c) v += static_cast<double>(columns[c][k]) * factor[c];
      multiples[k] = static_cast<uint64_t>(std::llround(v));
    }
    columns.push_back(multiples.data());
  }
  // Per target, the weight of each column: (S/s_i) mod p, times 2^50 for a y_hi, and -S mod p for the multiples.
  const size_t width = columns.size();
  std::vector<uint64_t> weights(targets.size() * width);
  for (size_t t = 0; t < targets.size(); ++t) {
    const Modulus& mod = ctx.modulus(targets[t]);
    const uint64_t* hat = hat_mod.data() + static_cast<size_t>(targets[t]) * s;
    for (size_t c = 0; c < width; ++c) {
      uint64_t w;
      if (centered && c + 1 == width)
        w = neg_mod(product_mod[targets[t]], mod.value);
      else
        w = column_high[c] ? mod.mul(hat[column_source[c]], mod.reduce(kPart)) : hat[column_source[c]];
      weights[t * width + c] = w;
    }
  }
  // One pass over the sources per block of coefficients, for all targets (the block stays in cache). Each group of
  // 16 columns adds less than q: one group leaves the sum reduced, more are reduced at the end.
  const size_t block = std::min<size_t>(n, 1024);
#pragma omp parallel for schedule(static)
  for (size_t k0 = 0; k0 < n; k0 += block) {
    std::vector<const uint64_t*> x(width);
    for (size_t c = 0; c < width; ++c) x[c] = columns[c] + k0;
    for (size_t t = 0; t < targets.size(); ++t) {
      const Modulus& mod = ctx.modulus(targets[t]);
      uint64_t* out = dst[t] + k0;
      for (size_t first = 0; first < width; first += kMaxWeightedTerms) {
        const int count = static_cast<int>(std::min<size_t>(kMaxWeightedTerms, width - first));
        weighted_sum_lazy_vec(x.data() + first, weights.data() + t * width + first, count, out, block, mod,
                              /*accumulate=*/first > 0);
      }
      if (width > static_cast<size_t>(kMaxWeightedTerms)) reduce_vec(out, out, block, mod);
    }
  }
}

ContextPtr Context::create(const Parameters& params) {
  std::shared_ptr<Context> ctx(new Context());
  ctx->params_ = params;
  ctx->n_ = params.poly_degree();
  const int log_n = params.log_n();
  for (uint64_t q : params.q()) ctx->moduli_.emplace_back(q);
  for (uint64_t p : params.p()) ctx->moduli_.emplace_back(p);
  const int count = static_cast<int>(ctx->moduli_.size());
  ctx->ntt_.resize(count);
#pragma omp parallel for schedule(dynamic)
  for (int i = 0; i < count; ++i) ctx->ntt_[i] = NttTables::create(ctx->moduli_[i].value, log_n);

  const int levels = params.max_level() + 1, alpha = params.digit_size(), k_special = ctx->special_prime_count();
  // ModUp converters: for every digit, every possible number of active primes (the last level of a digit is partial).
  for (int j = 0; j * alpha < levels; ++j) {
    std::vector<BaseConverter> by_size;
    for (int size = 1; size <= alpha && j * alpha + size <= levels; ++size) {
      std::vector<int> source;
      for (int i = 0; i < size; ++i) source.push_back(j * alpha + i);
      by_size.push_back(make_converter(ctx->moduli_, source));
    }
    ctx->mod_up_.push_back(std::move(by_size));
  }
  std::vector<int> special;
  for (int k = 0; k < k_special; ++k) special.push_back(ctx->special_prime_index(k));
  ctx->mod_down_ = make_converter(ctx->moduli_, special);
  for (int i = 0; i < levels; ++i) {
    const Modulus& qi = ctx->moduli_[i];
    uint64_t p_mod = 1;
    for (uint64_t p : params.p()) p_mod = qi.mul(p_mod, qi.reduce(p));
    ctx->p_mod_q_.push_back(p_mod);
    ctx->inv_p_mod_q_.push_back(inv_mod(p_mod, qi.value));
    ctx->inv_p_mod_q_shoup_.push_back(shoup_precompute(ctx->inv_p_mod_q_.back(), qi.value));
  }
  ctx->inv_q_last_.resize(levels);
  for (int l = 1; l < levels; ++l) {
    for (int i = 0; i < l; ++i) {
      ctx->inv_q_last_[l].push_back(inv_mod(ctx->moduli_[i].reduce(ctx->moduli_[l].value), ctx->moduli_[i].value));
    }
  }
  // Garner constants: q_j^-1 mod q_i for j < i.
  ctx->garner_inv_.resize(levels);
  for (int i = 0; i < levels; ++i) {
    for (int j = 0; j < i; ++j) {
      ctx->garner_inv_[i].push_back(inv_mod(ctx->moduli_[i].reduce(params.q()[j]), params.q()[i]));
    }
  }
  const size_t two_n = 2 * ctx->n_;
  ctx->bit_reversed_.resize(ctx->n_);
  for (size_t j = 0; j < ctx->n_; ++j) ctx->bit_reversed_[j] = bit_reverse(static_cast<uint32_t>(j), log_n);
  ctx->rot_group_.resize(ctx->n_ / 2);
  uint64_t g = 1;
  for (size_t j = 0; j < ctx->n_ / 2; ++j) {
    ctx->rot_group_[j] = g;
    g = g * 5 % two_n;
  }
  ctx->roots_2n_.resize(two_n + 1);
  for (size_t k = 0; k <= two_n; ++k) {
    const double angle = 2 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(two_n);
    ctx->roots_2n_[k] = {std::cos(angle), std::sin(angle)};
  }
  return ctx;
}

const BaseConverter& Context::mod_up_converter(int digit, int level) const {
  const int active = std::min(digit_size(), level + 1 - digit * digit_size());
  if (digit < 0 || active < 1) throw std::out_of_range("Context::mod_up_converter: digit not active at this level");
  return mod_up_[digit][active - 1];
}

uint64_t Context::galois_element(int steps) const {
  const int64_t slots = static_cast<int64_t>(slot_count());
  const int64_t r = ((steps % slots) + slots) % slots;
  return pow_mod(5, static_cast<uint64_t>(r), 2 * n_);
}

std::vector<uint32_t> Context::galois_permutation_ntt(uint64_t galois_elt) const {
  const uint64_t two_n = 2 * n_;
  if (galois_elt % 2 == 0 || galois_elt >= two_n) throw std::invalid_argument("Galois element must be odd and < 2N");
  std::vector<uint32_t> perm(n_);
  for (size_t j = 0; j < n_; ++j) {
    // out(psi^(2 brv(j) + 1)) = in(psi^(g (2 brv(j) + 1))); 2N is a power of two, so "mod 2N" is a mask.
    const uint64_t e = ((2 * static_cast<uint64_t>(bit_reversed_[j]) + 1) * galois_elt) & (two_n - 1);
    perm[j] = bit_reversed_[(e - 1) / 2];
  }
  return perm;
}

void Context::crt_compose(const uint64_t* limbs, int level, double divisor, double* out) const {
  // Garner: x = d_0 + q_0 (d_1 + q_1 (d_2 + ...)) with mixed-radix digits d_i in [0, q_i), computed limb by limb
  // (d_i = (x_i - d_0 - q_0 d_1 - ...) / (q_0 ... q_{i-1}) mod q_i). If the top digit is above q_level / 2 the
  // centered value is x - Q = -(1 + sum (q_i - 1 - d_i) M_i). Horner in double from the top keeps 53 bits of the
  // value itself (small values have zero top digits), unlike a floating sum of Q-sized CRT terms.
  constexpr size_t chunk = 1024;
  const size_t limbs_count = static_cast<size_t>(level) + 1;
#pragma omp parallel
  {
    LimbBuffer digits(limbs_count * chunk), reduced(chunk);
#pragma omp for schedule(static)
    for (size_t c0 = 0; c0 < n_; c0 += chunk) {
      const size_t len = std::min(chunk, n_ - c0);
      for (size_t i = 0; i < limbs_count; ++i) std::copy(limbs + i * n_ + c0, limbs + i * n_ + c0 + len, digits.data() + i * chunk);
      for (int i = 1; i <= level; ++i) {
        const Modulus& mod = moduli_[i];
        uint64_t* di = digits.data() + static_cast<size_t>(i) * chunk;
        for (int j = 0; j < i; ++j) {
          const uint64_t* dj = digits.data() + static_cast<size_t>(j) * chunk;
          reduce_vec(dj, reduced.data(), len, mod);
          sub_mul_scalar_vec(di, reduced.data(), garner_inv_[i][j], di, len, mod);
        }
      }
      const uint64_t q_top = moduli_[level].value;
      for (size_t k = 0; k < len; ++k) {
        const bool negative = digits[static_cast<size_t>(level) * chunk + k] > q_top / 2;
        double value = 0;
        for (int i = level; i >= 0; --i) {
          const uint64_t d = digits[static_cast<size_t>(i) * chunk + k];
          const uint64_t digit = negative ? moduli_[i].value - 1 - d : d;
          value = value * static_cast<double>(moduli_[i].value) + static_cast<double>(digit);
        }
        out[c0 + k] = (negative ? -(value + 1.0) : value) / divisor;
      }
    }
  }
}

}  // namespace cryptounet::ckks
