// Side-by-side harness: Microsoft SEAL (4.4.x) on the N15 set of bench/ckks_ops.cpp, same benchmark names
// (`<op>/N15/threads:1`), same level (full), same scale (2^40), same Google Benchmark settings (real time, ms).
// Our own code; SEAL itself is built outside this repository (see README.md next to this file). Not part of the
// project's CMake build (bench/CMakeLists.txt only globs bench/*.cpp).
//
// Parameter difference, by construction of SEAL: SEAL has exactly one key-switching ("special") prime, the last
// prime of coeff_modulus, and always decomposes over every q prime (dnum = number of q primes = 17 here). Our
// N15 set has 3x50-bit special primes and dnum 6. So: q = 50 + 16x40 (same data primes, 17 levels), P = 1x50.
// 50 + 16*40 + 50 = 740 bits <= 881 (SEAL's own 128-bit check for N = 2^15 passes). Every prime is below 2^50,
// as ours, so a SEAL built with Intel HEXL runs all of its NTTs on HEXL's AVX-512 IFMA path.
//
// SEAL has no public hoisted-rotation API; `rotate8_individual/N15` is 8 independent rotate_vector calls (steps
// 1..8), reported for comparison with our `rotate_hoisted8/N15`, and labelled as what it is.
#include <benchmark/benchmark.h>
#include <seal/seal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

using namespace seal;

namespace {

constexpr double kScale = 0x1.0p40;
const std::vector<int> kSteps = {1, 2, 3, 4, 5, 6, 7, 8};

struct Bench {
  std::unique_ptr<SEALContext> ctx;
  std::unique_ptr<KeyGenerator> keygen;
  PublicKey pk;
  RelinKeys rk;
  GaloisKeys gk;
  std::vector<double> values;
  Plaintext pt;
  Ciphertext ct, ct2;

  Bench() {
    EncryptionParameters parms(scheme_type::ckks);
    const size_t n = size_t(1) << 15;
    parms.set_poly_modulus_degree(n);
    std::vector<int> bits{50};
    bits.insert(bits.end(), 16, 40);
    bits.push_back(50);  // the single special prime
    parms.set_coeff_modulus(CoeffModulus::Create(n, bits));
    ctx = std::make_unique<SEALContext>(parms, true, sec_level_type::tc128);
    if (!ctx->parameters_set()) throw std::runtime_error(ctx->parameter_error_message());
    keygen = std::make_unique<KeyGenerator>(*ctx);
    keygen->create_public_key(pk);
    keygen->create_relin_keys(rk);
    keygen->create_galois_keys(kSteps, gk);
    CKKSEncoder encoder(*ctx);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(-1, 1);
    values.resize(encoder.slot_count());
    for (auto& v : values) v = u(rng);
    encoder.encode(values, kScale, pt);  // first (full) data level
    Encryptor encryptor(*ctx, pk);
    encryptor.encrypt(pt, ct);
    encryptor.encrypt(pt, ct2);
    check(encoder);
  }

  // Sanity check of what is timed: rotation by 1 and ct*ct + relin (+ rescale) decrypt to the expected slots.
  void check(CKKSEncoder& encoder) {
    Evaluator eval(*ctx);
    Decryptor decryptor(*ctx, keygen->secret_key());
    auto max_error = [&](const Ciphertext& c, auto expected) {
      Plaintext p;
      std::vector<double> out;
      decryptor.decrypt(c, p);
      encoder.decode(p, out);
      double e = 0;
      for (size_t i = 0; i < out.size(); ++i) e = std::max(e, std::abs(out[i] - expected(i)));
      return e;
    };
    Ciphertext r, m;
    eval.rotate_vector(ct, 1, gk, r);
    eval.multiply(ct, ct2, m);
    eval.relinearize_inplace(m, rk);
    eval.rescale_to_next_inplace(m);
    const size_t n = values.size();
    std::fprintf(stderr, "SEAL check: rotate max error %.2e, mul_relin+rescale max error %.2e\n",
                 max_error(r, [&](size_t i) { return values[(i + 1) % n]; }),
                 max_error(m, [&](size_t i) { return values[i] * values[i]; }));
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

using Op = void (*)(benchmark::State&, Bench&);

void op_encode(benchmark::State& state, Bench& b) {
  CKKSEncoder encoder(*b.ctx);
  Plaintext out;
  for (auto _ : state) {
    encoder.encode(b.values, kScale, out);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_encrypt(benchmark::State& state, Bench& b) {
  Encryptor encryptor(*b.ctx, b.pk);
  Ciphertext out;
  for (auto _ : state) {
    encryptor.encrypt(b.pt, out);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_decrypt(benchmark::State& state, Bench& b) {
  Decryptor decryptor(*b.ctx, b.keygen->secret_key());
  CKKSEncoder encoder(*b.ctx);
  Plaintext p;
  std::vector<double> out;
  for (auto _ : state) {
    decryptor.decrypt(b.ct, p);
    encoder.decode(p, out);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_add(benchmark::State& state, Bench& b) {
  Evaluator eval(*b.ctx);
  Ciphertext acc = b.ct;
  for (auto _ : state) eval.add_inplace(acc, b.ct2);
}
void op_mul_plain(benchmark::State& state, Bench& b) {
  Evaluator eval(*b.ctx);
  Ciphertext out;
  for (auto _ : state) {
    eval.multiply_plain(b.ct, b.pt, out);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_mul_relin(benchmark::State& state, Bench& b) {
  Evaluator eval(*b.ctx);
  Ciphertext out;
  for (auto _ : state) {
    eval.multiply(b.ct, b.ct2, out);
    eval.relinearize_inplace(out, b.rk);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_rescale(benchmark::State& state, Bench& b) {
  Evaluator eval(*b.ctx);
  Ciphertext out;
  for (auto _ : state) {
    eval.rescale_to_next(b.ct, out);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_rotate(benchmark::State& state, Bench& b) {
  Evaluator eval(*b.ctx);
  Ciphertext out;
  for (auto _ : state) {
    eval.rotate_vector(b.ct, 1, b.gk, out);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_rotate8_individual(benchmark::State& state, Bench& b) {
  Evaluator eval(*b.ctx);
  std::vector<Ciphertext> out(kSteps.size());
  for (auto _ : state) {
    for (size_t i = 0; i < kSteps.size(); ++i) eval.rotate_vector(b.ct, kSteps[i], b.gk, out[i]);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_keygen_relin(benchmark::State& state, Bench& b) {
  RelinKeys k;
  for (auto _ : state) {
    b.keygen->create_relin_keys(k);
    benchmark::DoNotOptimize(k.data().data());
  }
}

void register_all() {
  const std::pair<const char*, Op> ops[] = {
      {"encode", op_encode},       {"encrypt", op_encrypt},     {"decrypt", op_decrypt},
      {"add", op_add},             {"mul_plain", op_mul_plain}, {"mul_relin", op_mul_relin},
      {"rescale", op_rescale},     {"rotate", op_rotate},       {"rotate8_individual", op_rotate8_individual},
      {"keygen_relin", op_keygen_relin},
  };
  for (const auto& [name, op] : ops) {
    auto* b = benchmark::RegisterBenchmark((std::string(name) + "/N15").c_str(),
                                           [op = op](benchmark::State& state) { op(state, bench()); });
    // SEAL is single-threaded; only threads:1 exists (the name matches ours).
    b->ArgName("threads")->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
