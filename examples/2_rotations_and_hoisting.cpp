// Example 2: rotations and hoisting.
//
// A rotation moves the slots cyclically; it needs a Galois key per step. Several rotations of the same ciphertext
// can share their most expensive part (the digit decomposition and ModUp of c1): rotate_hoisted.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"

using namespace cryptounet::ckks;

namespace {
double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

int main() {
  const ContextPtr ctx = Context::create(Parameters::create({14, {60, 40, 40, 40, 40, 40, 40}, {60, 60}}));
  const int slots = static_cast<int>(ctx->slot_count());
  KeyGenerator keygen(ctx);
  Encoder encoder(ctx);
  Encryptor encryptor(ctx, keygen.secret_key());  // secret-key encryption: smaller noise, half-size ciphertexts
  Decryptor decryptor(ctx, keygen.secret_key());
  Evaluator evaluator(ctx);

  // Keys only for the steps we use: 1..8 (hoisting demo) and the powers of two (slot sum). Each key is large:
  std::vector<int> steps = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int p = 16; p < slots; p <<= 1) steps.push_back(p);
  const GaloisKeys galois_keys = keygen.create_galois_keys(steps);
  std::printf("%zu Galois keys, %.1f MB in memory\n", galois_keys.keys.size(), galois_keys.memory_bytes() / 1e6);

  std::vector<double> x(slots);
  for (int i = 0; i < slots; ++i) x[i] = static_cast<double>(i % 100) / 100.0;
  const Ciphertext ct = encryptor.encrypt(encoder.encode(x, ctx->max_level(), std::pow(2.0, 40)));

  // Left rotation by 3: slot i receives x[i + 3]; negative steps rotate right.
  const std::vector<double> r3 = encoder.decode(decryptor.decrypt(evaluator.rotate(ct, 3, galois_keys)));
  std::printf("rotate by 3: slot 0 = %.6f (expected %.6f)\n", r3[0], x[3]);

  // Eight rotations, one by one and hoisted.
  const std::vector<int> eight = {1, 2, 3, 4, 5, 6, 7, 8};
  auto start = std::chrono::steady_clock::now();
  std::vector<Ciphertext> single;
  for (int s : eight) single.push_back(evaluator.rotate(ct, s, galois_keys));
  const double single_ms = elapsed_ms(start);
  start = std::chrono::steady_clock::now();
  const std::vector<Ciphertext> hoisted = evaluator.rotate_hoisted(ct, eight, galois_keys);
  const double hoisted_ms = elapsed_ms(start);
  double max_error = 0;
  for (size_t k = 0; k < eight.size(); ++k) {
    const std::vector<double> d = encoder.decode(decryptor.decrypt(hoisted[k]));
    for (int i = 0; i < slots; ++i) max_error = std::max(max_error, std::fabs(d[i] - x[(i + eight[k]) % slots]));
  }
  std::printf("8 rotations: %.1f ms one by one, %.1f ms hoisted; max error %.2e\n", single_ms, hoisted_ms, max_error);

  // Sum of all slots with log2(slots) rotate-and-add steps: every slot ends up holding the total.
  Ciphertext sum = ct;
  for (int p = 1; p < slots; p <<= 1) evaluator.add_inplace(sum, evaluator.rotate(sum, p, galois_keys));
  double expected = 0;
  for (double v : x) expected += v;
  const double total = encoder.decode(decryptor.decrypt(sum))[0];
  std::printf("sum of slots: %.4f (expected %.4f)\n", total, expected);
  return (max_error < 1e-6 && std::fabs(total - expected) < 1e-3) ? 0 : 1;
}
