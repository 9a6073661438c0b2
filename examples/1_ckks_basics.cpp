// Example 1: CKKS basics — parameters, keys, encoding, encryption, arithmetic with exact scale tracking.
//
// We evaluate p(x) = 0.5 x^2 + 0.25 x + 1 on 8192 encrypted real numbers and compare with the plaintext result.
#include <cmath>
#include <cstdio>
#include <vector>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"

using namespace cryptounet::ckks;

int main() {
  // 1. Parameters: ring degree N = 2^14 (8192 slots), a 60-bit prime q_0 for the final precision, three 40-bit
  //    "scaling" primes (one per multiplicative level) and one 60-bit special prime for key switching.
  //    log2(QP) = 240 bits <= 438, the 128-bit security bound for N = 2^14; Parameters::create refuses more.
  //    Primes below 2^50 run on the AVX-512 IFMA kernels where the CPU has them (the U-Net planner uses 50-bit q_0
  //    and special primes for that); 60 bits here leave the result more headroom, on the exact 64-bit path.
  const Parameters params = Parameters::create({14, {60, 40, 40, 40}, {60}});
  const ContextPtr ctx = Context::create(params);
  std::printf("N = %zu, slots = %zu, levels = %d, log2(QP) = %.1f (bound %d)\n", ctx->poly_degree(),
              ctx->slot_count(), ctx->max_level(), params.log_qp(), max_log_qp_128bit(params.log_n()));

  // 2. Keys: the secret key stays with the data owner; public and relinearization keys can be shared.
  KeyGenerator keygen(ctx);
  const PublicKey public_key = keygen.create_public_key();
  const RelinKey relin_key = keygen.create_relin_key();
  Encoder encoder(ctx);
  Encryptor encryptor(ctx, public_key);
  Decryptor decryptor(ctx, keygen.secret_key());
  Evaluator evaluator(ctx);

  // 3. Encode at scale 2^40 (about 40 bits of fixed-point precision) and the top level, then encrypt.
  std::vector<double> x(ctx->slot_count());
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.001 * static_cast<double>(i));
  const double scale = std::pow(2.0, 40);
  const Ciphertext ct_x = encryptor.encrypt(encoder.encode(x, ctx->max_level(), scale));

  // 4. x^2: multiply, relinearize, rescale. The scale becomes 2^80 / q_L (tracked exactly, not rounded to 2^40).
  const Ciphertext x2 = evaluator.rescale(evaluator.square_relin(ct_x, relin_key));
  std::printf("x^2: level %d, scale 2^%.6f\n", x2.level(), std::log2(x2.scale()));

  // 5. 0.5 x^2: mul_const encodes the constant at scale q_level by default, so the rescale returns exactly to the
  //    input's scale. Terms must agree in level and scale before adding, so 0.25 x is encoded at the scale
  //    q_L * scale(x^2) / scale(x), which lands exactly on scale(x^2) after the rescale; drop_to_level (exact,
  //    scale unchanged) then aligns the levels.
  const Ciphertext half_x2 = evaluator.rescale(evaluator.mul_const(x2, 0.5));
  const double q_top = static_cast<double>(ctx->prime(ct_x.level()));
  Ciphertext quarter_x = evaluator.rescale(evaluator.mul_const(ct_x, 0.25, q_top * x2.scale() / ct_x.scale()));
  evaluator.drop_to_level_inplace(quarter_x, half_x2.level());
  std::printf("0.5x^2 scale 2^%.9f, 0.25x scale 2^%.9f (equal within 1e-9 relative)\n", std::log2(half_x2.scale()),
              std::log2(quarter_x.scale()));
  Ciphertext result = evaluator.add(half_x2, quarter_x);
  evaluator.add_const_inplace(result, 1.0);

  // 6. Decrypt, decode, compare.
  const std::vector<double> decoded = encoder.decode(decryptor.decrypt(result));
  double max_error = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double expected = 0.5 * x[i] * x[i] + 0.25 * x[i] + 1.0;
    max_error = std::max(max_error, std::fabs(decoded[i] - expected));
  }
  std::printf("p(x[1000]) = %.8f (expected %.8f); max error over all slots = %.2e\n", decoded[1000],
              0.5 * x[1000] * x[1000] + 0.25 * x[1000] + 1.0, max_error);
  return max_error < 1e-5 ? 0 : 1;
}
