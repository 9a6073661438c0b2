// Depth test: 20 consecutive square + relinearize + rescale at N = 2^16 still decrypt correctly.
//
// Parameters: q_0 = 60 bits, twenty 50-bit scaling primes, three 60-bit special primes: 1240 bits <= 1747.
// Scale 2^50. Error budget: the dominant term is the fresh public-key encryption error, e0 + e*u + s*e1 with
// sigma = 3.2 and ternary s, u: a coefficient std of about 3.2 * sqrt(2N/3) ~ 670, i.e. ~ 2^-32.6 per slot after
// dividing by the scale (x sqrt(N) for the slot transform); each level adds rescale/relinearization noise of
// ~ 2^-36. Every squaring multiplies an error by up to 2 (|d(x^2)/dx| <= 2 on [-1, 1]), so for the slots at
// x = +-1 the error std after 20 levels is ~ 2^20 * 2^-32.6 = 2^-12.6, and the maximum over the slots near +-1
// reaches 4-5 std (~ 2^-10.4). Observed maxima over many runs: 3.6e-5 to 7.9e-4 (<= 2^-10.3). The bound 2^-8
// leaves a 5x margin over the largest observed value.
#include <gtest/gtest.h>

#include <cstdio>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"
#include "test_util.h"

using namespace cryptounet::ckks;
using namespace cryptounet::ckks::test;

TEST(Depth, TwentySquaringsAtN16) {
  std::vector<int> q_bits = {60};
  q_bits.insert(q_bits.end(), 20, 50);
  const auto ctx = Context::create(Parameters::create({16, q_bits, {60, 60, 60}}));
  KeyGenerator keygen(ctx);
  const RelinKey rk = keygen.create_relin_key();
  Encoder encoder(ctx);
  Encryptor encryptor(ctx, keygen.create_public_key());
  Decryptor decryptor(ctx, keygen.secret_key());
  Evaluator eval(ctx);
  auto x = random_real(ctx->slot_count(), 42);
  x[0] = 1.0;  // worst case: the error is doubled at every level
  x[1] = -1.0;
  x[2] = 1.0 - 1e-6;
  Ciphertext ct = encryptor.encrypt(encoder.encode(x, ctx->max_level(), 0x1.0p50));
  std::vector<double> ref = x;
  for (int depth = 1; depth <= 20; ++depth) {
    ct = eval.rescale(eval.square_relin(ct, rk));
    for (auto& v : ref) v *= v;
  }
  EXPECT_EQ(ct.level(), 0);
  const double error = max_error(encoder.decode(decryptor.decrypt(ct)), ref);
  std::printf("max error after 20 squarings: %.3g\n", error);
  EXPECT_LE(error, 0x1.0p-8);
}
