// The largest ring, N = 2^17 (65 536 slots), through the operations a deep network uses: encode, encrypt,
// multiply + relinearize, rescale, rotate (hoisted too), decrypt. A short chain keeps it fast: what is specific to
// 2^17 is the ring (NTT tables, Galois elements mod 2^18, slot permutations), not the number of primes.
//
// Error budget at scale 2^45: the fresh encryption error per slot has std ~ 3.2 * sqrt(2N/3) * sqrt(N) / 2^45
// ~ 2^-23 at N = 2^17; a product of two unit-disc values adds the other operand's error and ~2^-30 of
// relinearization and rescaling noise, and the maximum over 2^16 slots is about 4.5 std: ~2^-20. The bound 2^-16
// leaves a 16x margin.
#include <gtest/gtest.h>

#include <complex>
#include <vector>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"
#include "test_util.h"

using namespace cryptounet::ckks;
using namespace cryptounet::ckks::test;
using cplx = std::complex<double>;

TEST(RingN17, MultiplyRescaleRotateDecrypt) {
  constexpr double kScale = 0x1.0p45;
  constexpr double kBound = 0x1.0p-16;
  const auto ctx = Context::create(Parameters::create({kMaxLogN, {60, 45, 45}, {60}}));
  ASSERT_EQ(ctx->slot_count(), size_t{1} << 16);
  KeyGenerator keygen(ctx);
  const RelinKey rk = keygen.create_relin_key();
  const std::vector<int> steps = {1, -3, 1 << 14};
  const GaloisKeys gk = keygen.create_galois_keys(steps);
  Encoder encoder(ctx);
  Encryptor encryptor(ctx, keygen.create_public_key());
  Decryptor decryptor(ctx, keygen.secret_key());
  Evaluator eval(ctx);
  const size_t slots = ctx->slot_count();
  const int top = ctx->max_level();

  const auto a = random_complex(slots, 17, 0.7), b = random_complex(slots, 18, 0.7);
  const Ciphertext ca = encryptor.encrypt(encoder.encode(std::span<const cplx>(a), top, kScale));
  const Ciphertext cb = encryptor.encrypt(encoder.encode(std::span<const cplx>(b), top, kScale));
  EXPECT_LE(max_error(encoder.decode_complex(decryptor.decrypt(ca)), a), kBound);

  const Ciphertext prod = eval.rescale(eval.multiply_relin(ca, cb, rk));
  EXPECT_EQ(prod.level(), top - 1);
  std::vector<cplx> expected(slots);
  for (size_t i = 0; i < slots; ++i) expected[i] = a[i] * b[i];
  EXPECT_LE(max_error(encoder.decode_complex(decryptor.decrypt(prod)), expected), kBound);

  // Left rotation by s: slot i receives slot (i + s) mod slots; one by one and hoisted.
  const auto rotated_hoisted = eval.rotate_hoisted(prod, steps, gk);
  ASSERT_EQ(rotated_hoisted.size(), steps.size());
  for (size_t k = 0; k < steps.size(); ++k) {
    std::vector<cplx> shifted(slots);
    for (size_t i = 0; i < slots; ++i) shifted[i] = expected[(i + slots + steps[k]) % slots];
    EXPECT_LE(max_error(encoder.decode_complex(decryptor.decrypt(eval.rotate(prod, steps[k], gk))), shifted), kBound)
        << "rotation by " << steps[k];
    EXPECT_LE(max_error(encoder.decode_complex(decryptor.decrypt(rotated_hoisted[k])), shifted), kBound)
        << "hoisted rotation by " << steps[k];
  }

  // Down to level 0 and still within bounds.
  const Ciphertext last = eval.rescale(eval.square_relin(prod, rk));
  EXPECT_EQ(last.level(), 0);
  for (auto& v : expected) v *= v;
  EXPECT_LE(max_error(encoder.decode_complex(decryptor.decrypt(last)), expected), kBound);
}
