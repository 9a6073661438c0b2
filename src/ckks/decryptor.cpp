#include "ckks/decryptor.h"

#include <cstring>
#include <stdexcept>

#include "ckks/vector_ops.h"

namespace cryptounet::ckks {

Decryptor::Decryptor(ContextPtr ctx, const SecretKey& secret_key) : ctx_(std::move(ctx)), secret_(secret_key) {
  if (secret_.data.size() != static_cast<size_t>(ctx_->prime_count()) * ctx_->poly_degree())
    throw std::invalid_argument("Decryptor: secret key does not match the parameters");
}

Plaintext Decryptor::decrypt(const Ciphertext& ct) const {
  const size_t n = ctx_->poly_degree();
  if (ct.poly_degree() != n || ct.level() < 0 || ct.level() > ctx_->max_level())
    throw std::invalid_argument("Decryptor: ciphertext does not match the parameters");
  Plaintext pt(n, ct.level(), ct.scale(), NoInit{});
#pragma omp parallel for schedule(static)
  for (int i = 0; i <= ct.level(); ++i) {
    const Modulus& mod = ctx_->modulus(i);
    const uint64_t* c0 = ct.limb(0, i);
    const uint64_t* c1 = ct.limb(1, i);
    const uint64_t* s = secret_.data.data() + i * n;
    uint64_t* m = pt.limb(i);
    std::memcpy(m, c0, n * sizeof(uint64_t));
    mul_add_mod_vec(c1, s, m, n, mod);
  }
  return pt;
}

}  // namespace cryptounet::ckks
