// Side-by-side harness: OpenFHE (1.5.x) CKKS-RNS on the N15 set of bench/ckks_ops.cpp, same benchmark names
// (`<op>/N15/threads:1`), full level, scale 2^40, same Google Benchmark settings (real time, ms). Run it with
// OMP_NUM_THREADS=1. Our own code; OpenFHE itself is built outside this repository (see README.md next to this
// file). Not part of the project's CMake build (bench/CMakeLists.txt only globs bench/*.cpp).
//
// Parameters: ring dimension 2^15, multiplicative depth 16, first modulus 50 bits, scaling modulus 40 bits
// (q = 50 + 16x40, as ours), HYBRID key switching with numLargeDigits 6 (dnum 6, as ours; OpenFHE picks the
// special primes itself and the program prints how many), FIXEDMANUAL scaling (explicit rescale, as ours),
// HEStd_128_classic (falls back to HEStd_NotSet, and says so, if OpenFHE refuses 2^15 at 128 bits).
// rotate_hoisted8 = EvalFastRotationPrecompute once + 8 EvalFastRotation (steps 1..8), as our rotate_hoisted8.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "openfhe.h"

using namespace lbcrypto;

namespace {

const std::vector<int32_t> kSteps = {1, 2, 3, 4, 5, 6, 7, 8};

CryptoContext<DCRTPoly> make_context(SecurityLevel level) {
  CCParams<CryptoContextCKKSRNS> p;
  p.SetRingDim(1 << 15);
  p.SetBatchSize(1 << 14);
  p.SetMultiplicativeDepth(16);
  p.SetFirstModSize(50);
  p.SetScalingModSize(40);
  p.SetKeySwitchTechnique(HYBRID);
  p.SetNumLargeDigits(6);
  p.SetScalingTechnique(FIXEDMANUAL);
  p.SetSecurityLevel(level);
  auto cc = GenCryptoContext(p);
  cc->Enable(PKE);
  cc->Enable(KEYSWITCH);
  cc->Enable(LEVELEDSHE);
  return cc;
}

struct Bench {
  CryptoContext<DCRTPoly> cc;
  KeyPair<DCRTPoly> keys;
  std::vector<double> values;
  Plaintext pt;
  Ciphertext<DCRTPoly> ct, ct2;

  Bench() {
    const char* sec = "HEStd_128_classic";
    try {
      cc = make_context(HEStd_128_classic);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "HEStd_128_classic refused (%s); using HEStd_NotSet\n", e.what());
      sec = "HEStd_NotSet";
      cc = make_context(HEStd_NotSet);
    }
    const auto params = cc->GetCryptoParameters();
    const auto crypto = std::dynamic_pointer_cast<CryptoParametersRNS>(params);
    const auto q = params->GetElementParams();
    const auto pq = crypto->GetParamsP();
    std::fprintf(stderr, "OpenFHE: ring dim %u, %s, q primes %zu (log2 Q %.1f), special primes %zu (log2 P %.1f), "
                 "dnum %u\n",
                 cc->GetRingDimension(), sec, q->GetParams().size(),
                 q->GetModulus().ConvertToDouble() > 0 ? std::log2(q->GetModulus().ConvertToDouble()) : 0.0,
                 pq ? pq->GetParams().size() : size_t(0),
                 pq ? std::log2(pq->GetModulus().ConvertToDouble()) : 0.0, crypto->GetNumPartQ());
    keys = cc->KeyGen();
    cc->EvalMultKeyGen(keys.secretKey);
    cc->EvalRotateKeyGen(keys.secretKey, kSteps);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(-1, 1);
    values.resize(cc->GetRingDimension() / 2);
    for (auto& v : values) v = u(rng);
    pt = cc->MakeCKKSPackedPlaintext(values);  // level 0 = full level
    ct = cc->Encrypt(keys.publicKey, pt);
    ct2 = cc->Encrypt(keys.publicKey, pt);
    check();
  }

  // Sanity check of what is timed: rotation by 1, hoisted rotation by 3 and ct*ct (relinearized, + rescale)
  // decrypt to the expected slots.
  void check() {
    const size_t n = values.size();
    auto max_error = [&](const Ciphertext<DCRTPoly>& c, auto expected) {
      Plaintext p;
      cc->Decrypt(keys.secretKey, c, &p);
      p->SetLength(n);
      const auto out = p->GetRealPackedValue();
      double e = 0;
      for (size_t i = 0; i < n; ++i) e = std::max(e, std::abs(out[i] - expected(i)));
      return e;
    };
    auto digits = cc->EvalFastRotationPrecompute(ct);
    std::fprintf(stderr, "OpenFHE check: rotate max error %.2e, hoisted rotate(3) max error %.2e, "
                 "mul_relin+rescale max error %.2e\n",
                 max_error(cc->EvalRotate(ct, 1), [&](size_t i) { return values[(i + 1) % n]; }),
                 max_error(cc->EvalFastRotation(ct, 3, 2 * cc->GetRingDimension(), digits),
                           [&](size_t i) { return values[(i + 3) % n]; }),
                 max_error(cc->Rescale(cc->EvalMult(ct, ct2)), [&](size_t i) { return values[i] * values[i]; }));
  }
};

Bench& bench() {
  static Bench b;
  return b;
}

using Op = void (*)(benchmark::State&, Bench&);

void op_encode(benchmark::State& state, Bench& b) {
  for (auto _ : state) benchmark::DoNotOptimize(b.cc->MakeCKKSPackedPlaintext(b.values));
}
void op_encrypt(benchmark::State& state, Bench& b) {
  for (auto _ : state) benchmark::DoNotOptimize(b.cc->Encrypt(b.keys.publicKey, b.pt));
}
void op_decrypt(benchmark::State& state, Bench& b) {
  Plaintext out;
  for (auto _ : state) {
    b.cc->Decrypt(b.keys.secretKey, b.ct, &out);  // includes decoding
    benchmark::DoNotOptimize(out);
  }
}
void op_add(benchmark::State& state, Bench& b) {
  auto acc = b.ct->Clone();
  for (auto _ : state) b.cc->EvalAddInPlace(acc, b.ct2);
}
void op_mul_plain(benchmark::State& state, Bench& b) {
  for (auto _ : state) benchmark::DoNotOptimize(b.cc->EvalMult(b.ct, b.pt));
}
void op_mul_relin(benchmark::State& state, Bench& b) {
  // EvalMult on two ciphertexts relinearizes; FIXEDMANUAL: no rescale.
  for (auto _ : state) benchmark::DoNotOptimize(b.cc->EvalMult(b.ct, b.ct2));
}
void op_rescale(benchmark::State& state, Bench& b) {
  for (auto _ : state) benchmark::DoNotOptimize(b.cc->Rescale(b.ct));
}
void op_rotate(benchmark::State& state, Bench& b) {
  for (auto _ : state) benchmark::DoNotOptimize(b.cc->EvalRotate(b.ct, 1));
}
void op_rotate_hoisted8(benchmark::State& state, Bench& b) {
  const uint32_t m = 2 * b.cc->GetRingDimension();
  std::vector<Ciphertext<DCRTPoly>> out(kSteps.size());
  for (auto _ : state) {
    auto digits = b.cc->EvalFastRotationPrecompute(b.ct);
    for (size_t i = 0; i < kSteps.size(); ++i) out[i] = b.cc->EvalFastRotation(b.ct, kSteps[i], m, digits);
    benchmark::DoNotOptimize(out.data());
  }
}
void op_keygen_relin(benchmark::State& state, Bench& b) {
  // The scheme-level call: CryptoContext::EvalMultKeyGen does nothing when a key for this secret key is stored.
  for (auto _ : state) benchmark::DoNotOptimize(b.cc->GetScheme()->EvalMultKeyGen(b.keys.secretKey));
}

void register_all() {
  const std::pair<const char*, Op> ops[] = {
      {"encode", op_encode},       {"encrypt", op_encrypt},     {"decrypt", op_decrypt},
      {"add", op_add},             {"mul_plain", op_mul_plain}, {"mul_relin", op_mul_relin},
      {"rescale", op_rescale},     {"rotate", op_rotate},       {"rotate_hoisted8", op_rotate_hoisted8},
      {"keygen_relin", op_keygen_relin},
  };
  for (const auto& [name, op] : ops) {
    auto* b = benchmark::RegisterBenchmark((std::string(name) + "/N15").c_str(),
                                           [op = op](benchmark::State& state) { op(state, bench()); });
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
