#include "ckks/keygenerator.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include "ckks/random.h"

namespace cryptounet::ckks {

KeyGenerator::KeyGenerator(ContextPtr ctx) : ctx_(std::move(ctx)) {
  const auto all = prime_range(*ctx_, ctx_->max_level(), true);
  secret_.data.resize(all.size() * ctx_->poly_degree());
  small_to_ntt(*ctx_, sample_ternary(ctx_->poly_degree()), all, secret_.data.data());
}

KeyGenerator::KeyGenerator(ContextPtr ctx, const SecretKey& secret) : ctx_(std::move(ctx)), secret_(secret) {
  if (secret_.data.size() != static_cast<size_t>(ctx_->prime_count()) * ctx_->poly_degree())
    throw std::invalid_argument("KeyGenerator: secret key does not match the parameters");
}

PublicKey KeyGenerator::create_public_key() const {
  const size_t n = ctx_->poly_degree();
  const int level = ctx_->max_level();
  const auto primes = prime_range(*ctx_, level, false);
  PublicKey pk;
  pk.seed = random_seed();
  pk.a.resize(primes.size() * n);
  pk.b.resize(primes.size() * n);
  sample_uniform(*ctx_, pk.seed, 0, primes, pk.a.data());
  small_to_ntt(*ctx_, sample_gaussian(n), primes, pk.b.data());
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= level; ++i) {
    const Modulus& mod = ctx_->modulus(i);
    const uint64_t* a = pk.a.data() + i * n;
    const uint64_t* s = secret_.data.data() + i * n;
    uint64_t* b = pk.b.data() + i * n;
    for (size_t k = 0; k < n; ++k) b[k] = sub_mod(b[k], mod.mul(a[k], s[k]), mod.value);  // -a*s + e
  }
  return pk;
}

KeySwitchKey KeyGenerator::create_switch_key(const uint64_t* new_secret, int max_level) const {
  const size_t n = ctx_->poly_degree();
  const int alpha = ctx_->digit_size();
  if (max_level < 0) max_level = ctx_->max_level();
  if (max_level > ctx_->max_level())
    throw std::invalid_argument("KeyGenerator: max_level " + std::to_string(max_level) + " above the top level " +
                                std::to_string(ctx_->max_level()));
  const auto primes = prime_range(*ctx_, max_level, true);
  const int rows = static_cast<int>(primes.size());
  KeySwitchKey key;
  key.level = max_level;
  key.digit_count = ctx_->digit_count(max_level);
  key.seed = random_seed();
  const size_t digit_words = static_cast<size_t>(rows) * n;
  key.a.resize(key.digit_count * digit_words);
  key.b.resize(key.digit_count * digit_words);
  for (int j = 0; j < key.digit_count; ++j) {
    uint64_t* a = key.a.data() + j * digit_words;
    uint64_t* b = key.b.data() + j * digit_words;
    sample_uniform(*ctx_, key.seed, static_cast<uint32_t>(j + 1), primes, a);
    small_to_ntt(*ctx_, sample_gaussian(n), primes, b);
#pragma omp parallel for schedule(static)
    for (int row = 0; row < rows; ++row) {
      const int i = primes[row];
      const Modulus& mod = ctx_->modulus(i);
      const uint64_t* s = secret_.data.data() + i * n;
      const uint64_t* s_new = new_secret + i * n;
      uint64_t* bi = b + row * n;
      const uint64_t* ai = a + row * n;
      // The gadget term P * s' appears only on the digit's own primes (the CRT idempotent of Q_j in Q).
      const bool in_digit = i <= ctx_->max_level() && i / alpha == j;
      const uint64_t p_mod = in_digit ? ctx_->p_mod_q(i) : 0;
      const uint64_t p_shoup = shoup_precompute(p_mod, mod.value);
      for (size_t k = 0; k < n; ++k) {
        uint64_t v = sub_mod(bi[k], mod.mul(ai[k], s[k]), mod.value);
        if (in_digit) v = add_mod(v, mul_shoup(s_new[k], p_mod, p_shoup, mod.value), mod.value);
        bi[k] = v;
      }
    }
  }
  return key;
}

RelinKey KeyGenerator::create_relin_key(int max_level) const {
  const size_t n = ctx_->poly_degree();
  SecretVector<uint64_t> s2(secret_.data.size());
  for (int i = 0; i < ctx_->prime_count(); ++i) {
    const Modulus& mod = ctx_->modulus(i);
    for (size_t k = 0; k < n; ++k) s2[i * n + k] = mod.mul(secret_.data[i * n + k], secret_.data[i * n + k]);
  }
  return create_switch_key(s2.data(), max_level);
}

namespace {

SecretVector<uint64_t> permuted_secret(const Context& ctx, const SecretKey& secret, uint64_t galois_elt) {
  const size_t n = ctx.poly_degree();
  const auto perm = ctx.galois_permutation_ntt(galois_elt);
  SecretVector<uint64_t> out(secret.data.size());
  for (int i = 0; i < ctx.prime_count(); ++i) {
    for (size_t k = 0; k < n; ++k) out[i * n + k] = secret.data[i * n + perm[k]];
  }
  return out;
}

}  // namespace

GaloisKeys KeyGenerator::create_galois_keys(std::span<const int> steps, bool with_conjugation, int max_level) const {
  GaloisKeys keys;
  for (int step : steps) {
    const uint64_t g = ctx_->galois_element(step);
    if (g == 1 || keys.has(g)) continue;
    keys.keys.emplace(g, create_switch_key(permuted_secret(*ctx_, secret_, g).data(), max_level));
  }
  if (with_conjugation) add_conjugation_key(keys, max_level);
  return keys;
}

GaloisKeys KeyGenerator::create_galois_keys(std::span<const int> steps, std::span<const int> max_levels) const {
  if (steps.size() != max_levels.size())
    throw std::invalid_argument("KeyGenerator: " + std::to_string(steps.size()) + " rotation steps but " +
                                std::to_string(max_levels.size()) + " key levels");
  std::map<uint64_t, int> levels;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (max_levels[i] < 0) throw std::invalid_argument("KeyGenerator: negative key level");
    const uint64_t g = ctx_->galois_element(steps[i]);
    if (g == 1) continue;
    const auto [it, fresh] = levels.emplace(g, max_levels[i]);
    if (!fresh) it->second = std::max(it->second, max_levels[i]);
  }
  GaloisKeys keys;
  for (const auto& [g, level] : levels)
    keys.keys.emplace(g, create_switch_key(permuted_secret(*ctx_, secret_, g).data(), level));
  return keys;
}

void KeyGenerator::add_conjugation_key(GaloisKeys& keys, int max_level) const {
  const uint64_t g = ctx_->conjugation_element();
  if (!keys.has(g)) keys.keys.emplace(g, create_switch_key(permuted_secret(*ctx_, secret_, g).data(), max_level));
}

}  // namespace cryptounet::ckks
