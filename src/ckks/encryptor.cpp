#include "ckks/encryptor.h"

#include <stdexcept>
#include <string>

#include "ckks/random.h"
#include "ckks/vector_ops.h"

namespace cryptounet::ckks {

Encryptor::Encryptor(ContextPtr ctx, const PublicKey& public_key) : ctx_(std::move(ctx)), public_key_(public_key) {
  if (public_key.b.size() != (ctx_->max_level() + 1) * ctx_->poly_degree() || public_key.a.size() != public_key.b.size())
    throw std::invalid_argument("Encryptor: public key does not match the parameters");
}

Encryptor::Encryptor(ContextPtr ctx, const SecretKey& secret_key) : ctx_(std::move(ctx)), secret_key_(secret_key) {
  if (secret_key.data.size() != static_cast<size_t>(ctx_->prime_count()) * ctx_->poly_degree())
    throw std::invalid_argument("Encryptor: secret key does not match the parameters");
}

Ciphertext Encryptor::encrypt_zero(int level, double scale) const {
  if (level < 0 || level > ctx_->max_level())
    throw std::invalid_argument("Encryptor: level " + std::to_string(level) + " out of range");
  const size_t n = ctx_->poly_degree();
  const auto primes = prime_range(*ctx_, level, false);
  Ciphertext ct(n, level, scale, NoInit{});
  if (public_key_) {
    // (v*b + e0, v*a + e1) with ternary v.
    SecretVector<uint64_t> v(primes.size() * n);  // the ephemeral ternary v decrypts this ciphertext
    small_to_ntt(*ctx_, sample_ternary(n), primes, v.data());
    small_to_ntt(*ctx_, sample_gaussian(n), primes, ct.poly(0));
    small_to_ntt(*ctx_, sample_gaussian(n), primes, ct.poly(1));
#pragma omp parallel for schedule(static)
    for (int i = 0; i <= level; ++i) {
      const Modulus& mod = ctx_->modulus(i);
      uint64_t* c0 = ct.limb(0, i);
      uint64_t* c1 = ct.limb(1, i);
      const uint64_t* vi = v.data() + i * n;
      const uint64_t* b = public_key_->b.data() + i * n;
      const uint64_t* a = public_key_->a.data() + i * n;
      mul_add_mod_vec(vi, b, c0, n, mod);
      mul_add_mod_vec(vi, a, c1, n, mod);
    }
  } else {
    // (-a*s + e, a), a from a fresh seed.
    const Seed seed = random_seed();
    sample_uniform(*ctx_, seed, 0, primes, ct.poly(1));
    small_to_ntt(*ctx_, sample_gaussian(n), primes, ct.poly(0));
#pragma omp parallel for schedule(static)
    for (int i = 0; i <= level; ++i) {
      const Modulus& mod = ctx_->modulus(i);
      uint64_t* c0 = ct.limb(0, i);
      const uint64_t* a = ct.limb(1, i);
      const uint64_t* s = secret_key_->data.data() + i * n;
      for (size_t k = 0; k < n; ++k) c0[k] = sub_mod(c0[k], mod.mul(a[k], s[k]), mod.value);
    }
    ct.set_seed(seed);
  }
  return ct;
}

Ciphertext Encryptor::encrypt(const Plaintext& pt) const {
  if (pt.poly_degree() != ctx_->poly_degree()) throw std::invalid_argument("Encryptor: plaintext degree mismatch");
  Ciphertext ct = encrypt_zero(pt.level(), pt.scale());
  const auto seed = ct.seed();
  const size_t n = ctx_->poly_degree();
  uint64_t* c0 = ct.poly(0);  // forgets the seed; restored below since c1 is untouched
  for (int i = 0; i <= pt.level(); ++i) {
    const uint64_t q = ctx_->prime(i);
    const uint64_t* m = pt.limb(i);
    for (size_t k = 0; k < n; ++k) c0[i * n + k] = add_mod(c0[i * n + k], m[k], q);
  }
  if (seed) ct.set_seed(*seed);
  return ct;
}

}  // namespace cryptounet::ckks
