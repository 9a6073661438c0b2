// Depth test: 20 consecutive square + relinearize + rescale at N = 2^16 still decrypt correctly.
//
// Parameters: q_0 = 60 bits, twenty 50-bit scaling primes, three 60-bit special primes: 1240 bits <= 1772.
// Scale 2^50. Error budget: the fresh error (~2^-40 per slot) and each level's rescale/relinearization noise
// (~2^-36) are at most doubled by every later squaring (|d(x^2)/dx| <= 2 on [-1, 1]); over 20 levels that is
// below 2^20 * 2^-36 = 2^-16, so the stated bound 2^-12 leaves a 16x margin.
#include <gtest/gtest.h>

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
  EXPECT_LE(max_error(encoder.decode(decryptor.decrypt(ct)), ref), 0x1.0p-12);
}
