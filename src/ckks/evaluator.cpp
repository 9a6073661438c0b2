#include "ckks/evaluator.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "ckks/keyswitch.h"
#include "ckks/vector_ops.h"

namespace cryptounet::ckks {

void check_same_scale(double a, double b, const char* operation) {
  if (!(std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)))) {
    std::ostringstream msg;
    msg.precision(17);
    msg << operation << ": scale mismatch (" << a << " vs " << b << "); rescale or re-encode so they agree";
    throw std::invalid_argument(msg.str());
  }
}

namespace {

void check_same_level(int a, int b, const char* operation) {
  if (a != b)
    throw std::invalid_argument(std::string(operation) + ": level mismatch (" + std::to_string(a) + " vs " +
                                std::to_string(b) + "); use drop_to_level or rescale first");
}

void check_ct(const Context& ctx, const Ciphertext& ct, const char* operation) {
  if (ct.poly_degree() != ctx.poly_degree() || ct.level() < 0 || ct.level() > ctx.max_level())
    throw std::invalid_argument(std::string(operation) + ": ciphertext does not match the context (empty?)");
}

// Applies f(limb index, Modulus, poly index) to every limb of both polynomials, OpenMP over limbs.
template <class F>
void for_each_limb(const Context& ctx, int level, F&& f) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level; ++i) {
    f(i, ctx.modulus(i));
  }
}

i128 round_to_integer(double value, const char* operation) {
  const double r = std::round(value);
  if (!(std::fabs(r) < 0x1.0p126)) throw std::invalid_argument(std::string(operation) + ": constant too large or NaN");
  return static_cast<i128>(r);
}

}  // namespace

Evaluator::Evaluator(ContextPtr ctx) : ctx_(std::move(ctx)) {}

namespace {

// An element-wise kernel of vector_ops.h: out = op(x, y) mod q.
using LimbKernel = void (*)(const uint64_t* x, const uint64_t* y, uint64_t* out, size_t n, const Modulus& mod);

// a = op(a, b) limb by limb on both polynomials, after the level and scale checks.
void combine_inplace(const Context& ctx, Ciphertext& a, const Ciphertext& b, const char* operation, LimbKernel op) {
  check_ct(ctx, a, operation);
  check_ct(ctx, b, operation);
  check_same_level(a.level(), b.level(), operation);
  check_same_scale(a.scale(), b.scale(), operation);
  const size_t n = ctx.poly_degree();
  for_each_limb(ctx, a.level(), [&](int i, const Modulus& mod) {
    for (int p = 0; p < 2; ++p) op(a.limb(p, i), b.limb(p, i), a.limb(p, i), n, mod);
  });
}

// a.c0 = op(a.c0, p) limb by limb, after the level and scale checks.
void combine_plain_inplace(const Context& ctx, Ciphertext& a, const Plaintext& p, const char* operation,
                           LimbKernel op) {
  check_ct(ctx, a, operation);
  check_same_level(a.level(), p.level(), operation);
  check_same_scale(a.scale(), p.scale(), operation);
  const size_t n = ctx.poly_degree();
  for_each_limb(ctx, a.level(), [&](int i, const Modulus& mod) { op(a.limb(0, i), p.limb(i), a.limb(0, i), n, mod); });
}

}  // namespace

void Evaluator::add_inplace(Ciphertext& a, const Ciphertext& b) const {
  combine_inplace(*ctx_, a, b, "add", add_mod_vec);
}
void Evaluator::sub_inplace(Ciphertext& a, const Ciphertext& b) const {
  combine_inplace(*ctx_, a, b, "sub", sub_mod_vec);
}

void Evaluator::negate_inplace(Ciphertext& a) const {
  check_ct(*ctx_, a, "negate");
  const size_t n = ctx_->poly_degree();
  for_each_limb(*ctx_, a.level(), [&](int i, const Modulus& mod) {
    for (int p = 0; p < 2; ++p) negate_mod_vec(a.limb(p, i), a.limb(p, i), n, mod);
  });
}

Ciphertext Evaluator::add(const Ciphertext& a, const Ciphertext& b) const {
  Ciphertext r = a;
  add_inplace(r, b);
  return r;
}
Ciphertext Evaluator::sub(const Ciphertext& a, const Ciphertext& b) const {
  Ciphertext r = a;
  sub_inplace(r, b);
  return r;
}
Ciphertext Evaluator::negate(const Ciphertext& a) const {
  Ciphertext r = a;
  negate_inplace(r);
  return r;
}

void Evaluator::add_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  combine_plain_inplace(*ctx_, a, p, "add_plain", add_mod_vec);
}

void Evaluator::sub_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  combine_plain_inplace(*ctx_, a, p, "sub_plain", sub_mod_vec);
}

Ciphertext Evaluator::add_plain(const Ciphertext& a, const Plaintext& p) const {
  Ciphertext r = a;
  add_plain_inplace(r, p);
  return r;
}
Ciphertext Evaluator::sub_plain(const Ciphertext& a, const Plaintext& p) const {
  Ciphertext r = a;
  sub_plain_inplace(r, p);
  return r;
}

void Evaluator::add_const_inplace(Ciphertext& a, double c) const {
  check_ct(*ctx_, a, "add_const");
  // A constant polynomial is the same constant in every NTT slot.
  const i128 value = round_to_integer(c * a.scale(), "add_const");
  const size_t n = ctx_->poly_degree();
  for_each_limb(*ctx_, a.level(), [&](int i, const Modulus& mod) {
    add_scalar_mod_vec(a.limb(0, i), mod.reduce_signed(value), a.limb(0, i), n, mod);
  });
}

Ciphertext Evaluator::add_const(const Ciphertext& a, double c) const {
  Ciphertext r = a;
  add_const_inplace(r, c);
  return r;
}

Ciphertext Evaluator::mul_plain(const Ciphertext& a, const Plaintext& p) const {
  check_ct(*ctx_, a, "mul_plain");
  if (p.level() < a.level() || p.poly_degree() != ctx_->poly_degree())
    throw std::invalid_argument("mul_plain: plaintext level " + std::to_string(p.level()) +
                                " is below the ciphertext level " + std::to_string(a.level()));
  const size_t n = ctx_->poly_degree();
  Ciphertext r(n, a.level(), a.scale() * p.scale(), NoInit{});
  for_each_limb(*ctx_, a.level(), [&](int i, const Modulus& mod) {
    for (int poly = 0; poly < 2; ++poly) mul_mod_vec(a.limb(poly, i), p.limb(i), r.limb(poly, i), n, mod);
  });
  return r;
}

void Evaluator::mul_plain_inplace(Ciphertext& a, const Plaintext& p) const { a = mul_plain(a, p); }

namespace {

void mul_integer_inplace(const Context& ctx, Ciphertext& a, i128 c) {
  const size_t n = ctx.poly_degree();
  for_each_limb(ctx, a.level(), [&](int i, const Modulus& mod) {
    const uint64_t w = mod.reduce_signed(c), ws = shoup_precompute(w, mod.value);
    for (int poly = 0; poly < 2; ++poly) {
      uint64_t* x = a.limb(poly, i);
      for (size_t k = 0; k < n; ++k) x[k] = mul_shoup(x[k], w, ws, mod.value);
    }
  });
}

}  // namespace

void Evaluator::mul_int_inplace(Ciphertext& a, int64_t c) const {
  check_ct(*ctx_, a, "mul_int");
  mul_integer_inplace(*ctx_, a, c);
}

Ciphertext Evaluator::mul_int(const Ciphertext& a, int64_t c) const {
  Ciphertext r = a;
  mul_int_inplace(r, c);
  return r;
}

Ciphertext Evaluator::mul_const(const Ciphertext& a, double c, double const_scale) const {
  check_ct(*ctx_, a, "mul_const");
  if (!(const_scale > 0)) throw std::invalid_argument("mul_const: const_scale must be positive");
  Ciphertext r = a;
  mul_integer_inplace(*ctx_, r, round_to_integer(c * const_scale, "mul_const"));
  r.set_scale(a.scale() * const_scale);
  return r;
}

Ciphertext Evaluator::mul_const(const Ciphertext& a, double c) const {
  check_ct(*ctx_, a, "mul_const");
  return mul_const(a, c, static_cast<double>(ctx_->prime(a.level())));
}

Ciphertext Evaluator::multiply_relin(const Ciphertext& a, const Ciphertext& b, const RelinKey& rk) const {
  check_ct(*ctx_, a, "multiply_relin");
  check_ct(*ctx_, b, "multiply_relin");
  check_same_level(a.level(), b.level(), "multiply_relin");
  const size_t n = ctx_->poly_degree();
  const int level = a.level();
  Ciphertext r(n, level, a.scale() * b.scale(), NoInit{});
  LimbBuffer d2((level + 1) * n);
  for_each_limb(*ctx_, level, [&](int i, const Modulus& mod) {
    const uint64_t *a0 = a.limb(0, i), *a1 = a.limb(1, i), *b0 = b.limb(0, i), *b1 = b.limb(1, i);
    uint64_t *r0 = r.limb(0, i), *r1 = r.limb(1, i), *t = d2.data() + i * n;
    mul_mod_vec(a0, b0, r0, n, mod);
    mul_mod_vec(a0, b1, r1, n, mod);
    mul_add_mod_vec(a1, b0, r1, n, mod);
    mul_mod_vec(a1, b1, t, n, mod);
  });
  const DecomposedPoly d = decompose_mod_up(*ctx_, d2.data(), level);
  LimbBuffer k0((level + 1) * n), k1((level + 1) * n);
  key_inner_product_mod_down(*ctx_, d, rk, nullptr, k0.data(), k1.data());
  for_each_limb(*ctx_, level, [&](int i, const Modulus& mod) {
    add_mod_vec(r.limb(0, i), k0.data() + i * n, r.limb(0, i), n, mod);
    add_mod_vec(r.limb(1, i), k1.data() + i * n, r.limb(1, i), n, mod);
  });
  return r;
}

Ciphertext Evaluator::square_relin(const Ciphertext& a, const RelinKey& rk) const { return multiply_relin(a, a, rk); }

Ciphertext Evaluator::rescale(const Ciphertext& a) const {
  check_ct(*ctx_, a, "rescale");
  const int level = a.level();
  if (level == 0) throw std::invalid_argument("rescale: ciphertext is at level 0, nothing left to drop");
  const size_t n = ctx_->poly_degree();
  const uint64_t q_last = ctx_->prime(level);
  Ciphertext r(n, level - 1, a.scale() / static_cast<double>(q_last), NoInit{});
  // The dropped limb of both polynomials in coefficient form (one inverse NTT each, side by side).
  LimbBuffer last(2 * n);
#pragma omp parallel for schedule(static)
  for (int poly = 0; poly < 2; ++poly) {
    std::copy(a.limb(poly, level), a.limb(poly, level) + n, last.data() + poly * n);
    ntt_inverse(last.data() + poly * n, ctx_->ntt(level));
  }
#pragma omp parallel
  {
    LimbBuffer t(n);
#pragma omp for schedule(static) collapse(2)
    for (int poly = 0; poly < 2; ++poly) {
      for (int i = 0; i < level; ++i) {
        const Modulus& mod = ctx_->modulus(i);
        // Centered representative of c mod q_last, reduced mod q_i: round(c / q_last) = (c - [c]_centered) / q_last.
        reduce_centered_vec(last.data() + poly * n, q_last, t.data(), n, mod);
        ntt_forward(t.data(), ctx_->ntt(i));
        sub_mul_scalar_vec(a.limb(poly, i), t.data(), ctx_->inv_q_last(level, i), r.limb(poly, i), n, mod);
      }
    }
  }
  return r;
}

void Evaluator::rescale_inplace(Ciphertext& a) const { a = rescale(a); }

void Evaluator::drop_to_level_inplace(Ciphertext& a, int level) const {
  check_ct(*ctx_, a, "drop_to_level");
  a.drop_to_level(level);
}

Ciphertext Evaluator::drop_to_level(const Ciphertext& a, int level) const {
  Ciphertext r = a;
  drop_to_level_inplace(r, level);
  return r;
}

const KeySwitchKey& Evaluator::galois_key(uint64_t galois_elt, const GaloisKeys& gk, int steps_for_message) const {
  const auto it = gk.keys.find(galois_elt);
  if (it == gk.keys.end()) {
    throw std::invalid_argument(galois_elt == ctx_->conjugation_element()
                                    ? std::string("conjugate: no conjugation key in GaloisKeys")
                                    : "rotate: no Galois key for rotation step " + std::to_string(steps_for_message) +
                                          " (Galois element " + std::to_string(galois_elt) + ")");
  }
  return it->second;
}

namespace {

// c1 under the automorphism (an NTT-slot permutation per limb), written to out (level + 1 limbs).
void permute_c1(const Context& ctx, const Ciphertext& a, const std::vector<uint32_t>& perm, uint64_t* out) {
  const size_t n = ctx.poly_degree();
  for_each_limb(ctx, a.level(),
                [&](int i, const Modulus&) { permute_vec(a.limb(1, i), perm.data(), out + i * n, n); });
}

// (perm(c0) + k0, k1): the rotated ciphertext from the key-switched permuted c1.
Ciphertext assemble_rotation(const Context& ctx, const Ciphertext& a, const std::vector<uint32_t>& perm,
                             const LimbBuffer& k0, const LimbBuffer& k1) {
  const size_t n = ctx.poly_degree();
  Ciphertext r(n, a.level(), a.scale(), NoInit{});
  for_each_limb(ctx, a.level(), [&](int i, const Modulus& mod) {
    add_permuted_mod_vec(k0.data() + i * n, a.limb(0, i), perm.data(), r.limb(0, i), n, mod);
  });
  std::copy(k1.begin(), k1.end(), r.poly(1));
  return r;
}

}  // namespace

Ciphertext Evaluator::apply_galois(const Ciphertext& a, uint64_t galois_elt, const GaloisKeys& gk) const {
  check_ct(*ctx_, a, "rotate");
  if (galois_elt == 1) return a;
  const KeySwitchKey& key = galois_key(galois_elt, gk, 0);
  const size_t n = ctx_->poly_degree();
  const auto perm = ctx_->galois_permutation_ntt(galois_elt);
  // Permute c1 first, then key-switch from s(X^g) to s.
  LimbBuffer c1(a.limb_count() * n);
  permute_c1(*ctx_, a, perm, c1.data());
  const DecomposedPoly d = decompose_mod_up(*ctx_, c1.data(), a.level());
  LimbBuffer k0(c1.size()), k1(c1.size());
  key_inner_product_mod_down(*ctx_, d, key, nullptr, k0.data(), k1.data());
  return assemble_rotation(*ctx_, a, perm, k0, k1);
}

Ciphertext Evaluator::rotate(const Ciphertext& a, int steps, const GaloisKeys& gk) const {
  const uint64_t g = ctx_->galois_element(steps);
  if (g != 1) galois_key(g, gk, steps);  // clear error naming the step
  return apply_galois(a, g, gk);
}

Ciphertext Evaluator::conjugate(const Ciphertext& a, const GaloisKeys& gk) const {
  return apply_galois(a, ctx_->conjugation_element(), gk);
}

std::vector<Ciphertext> Evaluator::rotate_hoisted(const Ciphertext& a, std::span<const int> steps,
                                                  const GaloisKeys& gk) const {
  check_ct(*ctx_, a, "rotate_hoisted");
  for (int step : steps) {
    const uint64_t g = ctx_->galois_element(step);
    if (g != 1) galois_key(g, gk, step);
  }
  std::vector<Ciphertext> out;
  out.reserve(steps.size());
  const size_t n = ctx_->poly_degree();
  DecomposedPoly d;
  bool decomposed = false;
  for (int step : steps) {
    const uint64_t g = ctx_->galois_element(step);
    if (g == 1) {
      out.push_back(a);
      continue;
    }
    if (!decomposed) {
      d = decompose_mod_up(*ctx_, a.poly(1), a.level());
      decomposed = true;
    }
    // ModUp commutes with the automorphism (a signed coefficient permutation), so the digits of c1 are permuted
    // on the fly inside the inner product.
    const auto perm = ctx_->galois_permutation_ntt(g);
    LimbBuffer k0(a.limb_count() * n), k1(a.limb_count() * n);
    key_inner_product_mod_down(*ctx_, d, gk.keys.at(g), perm.data(), k0.data(), k1.data());
    out.push_back(assemble_rotation(*ctx_, a, perm, k0, k1));
  }
  return out;
}

Ciphertext Evaluator::rotate_and_sum(std::span<const Ciphertext> terms, std::span<const int> steps,
                                     const GaloisKeys& gk) const {
  if (terms.empty() || terms.size() != steps.size())
    throw std::invalid_argument("rotate_and_sum: needs one step per term, at least one term");
  for (size_t t = 0; t < terms.size(); ++t) {
    check_ct(*ctx_, terms[t], "rotate_and_sum");
    check_same_level(terms[t].level(), terms[0].level(), "rotate_and_sum");
    check_same_scale(terms[t].scale(), terms[0].scale(), "rotate_and_sum");
    const uint64_t g = ctx_->galois_element(steps[t]);
    if (g != 1) galois_key(g, gk, steps[t]);
  }
  const int level = terms[0].level();
  const size_t n = ctx_->poly_degree();
  // sum: the step-0 terms and the permuted c0 of the others; acc0, acc1: the key-switched c1 products over Q * P.
  Ciphertext sum(n, level, terms[0].scale());
  LimbBuffer acc0, acc1, c1(static_cast<size_t>(level + 1) * n);
  bool switched = false;
  for (size_t t = 0; t < terms.size(); ++t) {
    const Ciphertext& a = terms[t];
    const uint64_t g = ctx_->galois_element(steps[t]);
    if (g == 1) {
      add_inplace(sum, a);
      continue;
    }
    // Each term has its own ModUp, so c1 is permuted before it (level + 1 limbs) rather than the extended digits
    // after it (digits x (level + 1 + K) limbs), as in apply_galois.
    const auto perm = ctx_->galois_permutation_ntt(g);
    permute_c1(*ctx_, a, perm, c1.data());
    const DecomposedPoly d = decompose_mod_up(*ctx_, c1.data(), level);
    key_inner_product(*ctx_, d, gk.keys.at(g), nullptr, acc0, acc1, /*accumulate=*/switched);
    switched = true;
    for_each_limb(*ctx_, level, [&](int i, const Modulus& mod) {
      add_permuted_mod_vec(sum.limb(0, i), a.limb(0, i), perm.data(), sum.limb(0, i), n, mod);
    });
  }
  if (switched) {
    LimbBuffer k0(sum.limb_count() * n), k1(sum.limb_count() * n);
    mod_down(*ctx_, acc0, level, k0.data());
    mod_down(*ctx_, acc1, level, k1.data());
    for_each_limb(*ctx_, level, [&](int i, const Modulus& mod) {
      add_mod_vec(sum.limb(0, i), k0.data() + i * n, sum.limb(0, i), n, mod);
      add_mod_vec(sum.limb(1, i), k1.data() + i * n, sum.limb(1, i), n, mod);
    });
  }
  return sum;
}

}  // namespace cryptounet::ckks
