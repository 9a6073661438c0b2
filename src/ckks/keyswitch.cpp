#include "ckks/keyswitch.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "ckks/modarith.h"
#include "ckks/vector_ops.h"

namespace cryptounet::ckks {

DecomposedPoly decompose_mod_up(const Context& ctx, const uint64_t* c_ntt, int level) {
  const size_t n = ctx.poly_degree();
  const int alpha = ctx.digit_size(), k_special = ctx.special_prime_count();
  const int width = level + 1 + k_special;
  DecomposedPoly d;
  d.level = level;
  d.digits = ctx.digit_count(level);
  d.digit.resize(d.digits);

  LimbBuffer coeff(c_ntt, c_ntt + (level + 1) * n);
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level; ++i) ntt_inverse(coeff.data() + i * n, ctx.ntt(i));

  for (int j = 0; j < d.digits; ++j) {
    const int start = j * alpha, size = std::min(alpha, level + 1 - start);
    d.digit[j].resize(static_cast<size_t>(width) * n);
    uint64_t* digit = d.digit[j].data();
    // Positions (within Q_level * P) and prime indices that the base conversion must fill.
    std::vector<int> targets, positions;
    for (int i = 0; i <= level; ++i) {
      if (i < start || i >= start + size) {
        targets.push_back(i);
        positions.push_back(i);
      }
    }
    for (int k = 0; k < k_special; ++k) {
      targets.push_back(ctx.special_prime_index(k));
      positions.push_back(level + 1 + k);
    }
    // The digit's own limbs are the input itself (already in NTT form).
    std::memcpy(digit + start * n, c_ntt + start * n, size * n * sizeof(uint64_t));
    std::vector<uint64_t*> dst;
    for (int position : positions) dst.push_back(digit + static_cast<size_t>(position) * n);
    ctx.mod_up_converter(j, level).convert(ctx, coeff.data() + start * n, targets, dst);
#pragma omp parallel for schedule(static)
    for (size_t t = 0; t < targets.size(); ++t) ntt_forward(dst[t], ctx.ntt(targets[t]));
  }
  return d;
}

void mod_down(const Context& ctx, LimbBuffer& acc, int level, uint64_t* out) {
  const size_t n = ctx.poly_degree();
  const int k_special = ctx.special_prime_count();
  uint64_t* special = acc.data() + (level + 1) * n;
#pragma omp parallel for schedule(static)
  for (int k = 0; k < k_special; ++k) ntt_inverse(special + k * n, ctx.ntt(ctx.special_prime_index(k)));
  std::vector<int> targets;
  for (int i = 0; i <= level; ++i) targets.push_back(i);
  std::vector<uint64_t*> dst;
  for (int i = 0; i <= level; ++i) dst.push_back(out + static_cast<size_t>(i) * n);
  ctx.mod_down_converter().convert(ctx, special, targets, dst, /*centered=*/true);
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level; ++i) {
    uint64_t* dst = out + i * n;
    ntt_forward(dst, ctx.ntt(i));
    sub_mul_scalar_vec(acc.data() + i * n, dst, ctx.inv_p_mod_q(i), dst, n, ctx.modulus(i));
  }
}

void key_inner_product(const Context& ctx, const DecomposedPoly& d, const KeySwitchKey& key, const uint32_t* perm,
                       LimbBuffer& acc0, LimbBuffer& acc1, bool accumulate) {
  const size_t n = ctx.poly_degree();
  const int level = d.level, k_special = ctx.special_prime_count(), width = level + 1 + k_special;
  const size_t key_limbs = static_cast<size_t>(key.level) + 1 + k_special;
  if (level > key.level)
    throw std::invalid_argument("key switching: the key serves levels <= " + std::to_string(key.level) +
                                ", the ciphertext is at level " + std::to_string(level));
  if (key.digit_count < d.digits || key.b.size() != static_cast<size_t>(key.digit_count) * key_limbs * n)
    throw std::invalid_argument("key switching: key does not match the parameters");
  if (d.digits > 256) throw std::invalid_argument("key switching: more than 256 digits");  // dot_product_pair bound
  if (accumulate) {
    if (acc0.size() != static_cast<size_t>(width) * n || acc1.size() != acc0.size())
      throw std::invalid_argument("key switching: accumulator does not match the level");
  } else {
    acc0.resize(static_cast<size_t>(width) * n);
    acc1.resize(static_cast<size_t>(width) * n);
  }
#pragma omp parallel for schedule(static)
  for (int pos = 0; pos < width; ++pos) {
    const int prime = pos <= level ? pos : ctx.special_prime_index(pos - level - 1);
    const size_t key_row = pos <= level ? static_cast<size_t>(pos) : key.level + 1 + (pos - level - 1);
    const Modulus& mod = ctx.modulus(prime);
    uint64_t* r0 = acc0.data() + pos * n;
    uint64_t* r1 = acc1.data() + pos * n;
    // Blocks of 256 coefficients; with a permutation (hoisting) each digit's block is gathered first.
    constexpr size_t block = 256;
    std::vector<uint64_t> permuted(perm ? static_cast<size_t>(d.digits) * block : 0);
    std::vector<uint64_t> sum0(accumulate ? block : 0), sum1(accumulate ? block : 0);
    std::vector<const uint64_t*> xs(d.digits), bs(d.digits), as(d.digits);
    if (perm)
      for (int j = 0; j < d.digits; ++j) prefetch_vec(d.digit[j].data() + static_cast<size_t>(pos) * n, n);
    for (size_t k0 = 0; k0 < n; k0 += block) {
      for (int j = 0; j < d.digits; ++j) {
        const uint64_t* x = d.digit[j].data() + static_cast<size_t>(pos) * n;
        if (perm) {
          uint64_t* dst = permuted.data() + j * block;
          for (size_t k = 0; k < block; ++k) dst[k] = x[perm[k0 + k]];
          xs[j] = dst;
        } else {
          xs[j] = x + k0;
        }
        const size_t key_offset = (static_cast<size_t>(j) * key_limbs + key_row) * n + k0;
        bs[j] = key.b.data() + key_offset;
        as[j] = key.a.data() + key_offset;
      }
      if (!accumulate) {
        dot_product_pair(xs.data(), bs.data(), as.data(), d.digits, r0 + k0, r1 + k0, block, mod);
        continue;
      }
      dot_product_pair(xs.data(), bs.data(), as.data(), d.digits, sum0.data(), sum1.data(), block, mod);
      add_mod_vec(r0 + k0, sum0.data(), r0 + k0, block, mod);
      add_mod_vec(r1 + k0, sum1.data(), r1 + k0, block, mod);
    }
  }
}

void key_inner_product_mod_down(const Context& ctx, const DecomposedPoly& d, const KeySwitchKey& key,
                                const uint32_t* perm, uint64_t* out0, uint64_t* out1) {
  LimbBuffer acc0, acc1;
  key_inner_product(ctx, d, key, perm, acc0, acc1, /*accumulate=*/false);
  const int level = d.level;
  mod_down(ctx, acc0, level, out0);
  mod_down(ctx, acc1, level, out1);
}

}  // namespace cryptounet::ckks
