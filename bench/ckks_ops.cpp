// CKKS engine benchmarks: `<op>/<set>/threads:<t>` for the three parameter sets, at full level, scale 2^40. Run one
// figure with e.g. `build/bench/ckks_ops --benchmark_filter=rotate/N15`. Every prime is below 2^50, so every limb
// takes the AVX-512 IFMA kernels where the CPU has them (q_0 and special primes of 50 bits, scaling primes of 40):
//   N14: N = 2^14, q = 50 + 6x40, P = 2x50 (dnum 4), 390 bits <= 438
//   N15: N = 2^15, q = 50 + 16x40, P = 3x50 (dnum 6), 840 bits <= 881
//   N16: N = 2^16, q = 50 + 29x40 (30 levels), P = 5x50 (dnum 6), 1460 bits <= 1747
// The "sizes/<set>" entry reports serialized sizes (bytes) as counters.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"

using namespace cryptounet::ckks;

namespace {

constexpr double kScale = 0x1.0p40;
const std::vector<int> kHoistedSteps = {1, 2, 3, 4, 5, 6, 7, 8};

ParameterSpec spec_for(const std::string& set) {
  if (set == "N14") return {14, {50, 40, 40, 40, 40, 40, 40}, {50, 50}};
  std::vector<int> q{50};
  if (set == "N15") {
    q.insert(q.end(), 16, 40);
    return {15, q, {50, 50, 50}};
  }
  q.insert(q.end(), 29, 40);
  return {16, q, {50, 50, 50, 50, 50}};
}

// Everything a benchmark of one set needs, built once per set (keys are large at N16).
struct Bench {
  ContextPtr ctx;
  std::unique_ptr<KeyGenerator> keygen;
  PublicKey pk;
  RelinKey rk;
  GaloisKeys gk;
  std::vector<double> values;
  Plaintext pt;
  Ciphertext ct, ct2;

  explicit Bench(const std::string& set) {
    ctx = Context::create(Parameters::create(spec_for(set)));
    keygen = std::make_unique<KeyGenerator>(ctx);
    pk = keygen->create_public_key();
    rk = keygen->create_relin_key();
    gk = keygen->create_galois_keys(kHoistedSteps);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(-1, 1);
    values.resize(ctx->slot_count());
    for (auto& v : values) v = u(rng);
    Encoder encoder(ctx);
    pt = encoder.encode(values, ctx->max_level(), kScale);
    Encryptor encryptor(ctx, pk);
    ct = encryptor.encrypt(pt);
    ct2 = encryptor.encrypt(pt);
  }
};

Bench& bench(const std::string& set) {
  static std::map<std::string, std::unique_ptr<Bench>> cache;
  auto& slot = cache[set];
  if (!slot) {
    cache.clear();  // one set in memory at a time (N16 keys are several GB together)
    cache[set] = std::make_unique<Bench>(set);
    return *cache[set];
  }
  return *slot;
}

using Op = void (*)(benchmark::State&, Bench&);

void op_encode(benchmark::State& state, Bench& b) {
  Encoder encoder(b.ctx);
  for (auto _ : state) benchmark::DoNotOptimize(encoder.encode(b.values, b.ctx->max_level(), kScale));
}
void op_encrypt(benchmark::State& state, Bench& b) {
  Encryptor encryptor(b.ctx, b.pk);
  for (auto _ : state) benchmark::DoNotOptimize(encryptor.encrypt(b.pt));
}
void op_decrypt(benchmark::State& state, Bench& b) {
  Decryptor decryptor(b.ctx, b.keygen->secret_key());
  Encoder encoder(b.ctx);
  for (auto _ : state) benchmark::DoNotOptimize(encoder.decode(decryptor.decrypt(b.ct)));
}
void op_add(benchmark::State& state, Bench& b) {
  Evaluator eval(b.ctx);
  Ciphertext acc = b.ct;
  for (auto _ : state) eval.add_inplace(acc, b.ct2);
}
void op_mul_plain(benchmark::State& state, Bench& b) {
  Evaluator eval(b.ctx);
  for (auto _ : state) benchmark::DoNotOptimize(eval.mul_plain(b.ct, b.pt));
}
void op_mul_relin(benchmark::State& state, Bench& b) {
  Evaluator eval(b.ctx);
  for (auto _ : state) benchmark::DoNotOptimize(eval.multiply_relin(b.ct, b.ct2, b.rk));
}
void op_rescale(benchmark::State& state, Bench& b) {
  Evaluator eval(b.ctx);
  for (auto _ : state) benchmark::DoNotOptimize(eval.rescale(b.ct));
}
void op_rotate(benchmark::State& state, Bench& b) {
  Evaluator eval(b.ctx);
  for (auto _ : state) benchmark::DoNotOptimize(eval.rotate(b.ct, 1, b.gk));
}
void op_rotate_hoisted8(benchmark::State& state, Bench& b) {
  Evaluator eval(b.ctx);
  for (auto _ : state) benchmark::DoNotOptimize(eval.rotate_hoisted(b.ct, kHoistedSteps, b.gk));
}
void op_keygen_relin(benchmark::State& state, Bench& b) {
  for (auto _ : state) benchmark::DoNotOptimize(b.keygen->create_relin_key());
}
void op_keygen_galois16(benchmark::State& state, Bench& b) {
  std::vector<int> steps;
  for (int i = 1; i <= 16; ++i) steps.push_back(i);
  for (auto _ : state) {
    GaloisKeys keys = b.keygen->create_galois_keys(steps);
    state.counters["bytes_in_memory"] = static_cast<double>(keys.memory_bytes());
  }
}
void op_sizes(benchmark::State& state, Bench& b) {
  Encryptor symmetric(b.ctx, b.keygen->secret_key());
  const Ciphertext seeded = symmetric.encrypt(b.pt);
  for (auto _ : state) {
    state.counters["ciphertext"] = static_cast<double>(serialized_size(*b.ctx, b.ct));
    state.counters["ciphertext_seeded"] = static_cast<double>(serialized_size(*b.ctx, seeded));
    state.counters["public_key"] = static_cast<double>(serialized_size(*b.ctx, b.pk));
    state.counters["relin_key"] = static_cast<double>(serialized_size(*b.ctx, b.rk));
    state.counters["galois_key_each"] = static_cast<double>(serialized_size(*b.ctx, b.gk)) / b.gk.keys.size();
    state.counters["galois_key_each_in_memory"] = static_cast<double>(b.gk.memory_bytes()) / b.gk.keys.size();
  }
}

void register_all() {
  const std::pair<const char*, Op> ops[] = {
      {"encode", op_encode},       {"encrypt", op_encrypt},       {"decrypt", op_decrypt},
      {"add", op_add},             {"mul_plain", op_mul_plain},   {"mul_relin", op_mul_relin},
      {"rescale", op_rescale},     {"rotate", op_rotate},         {"rotate_hoisted8", op_rotate_hoisted8},
      {"keygen_relin", op_keygen_relin}, {"keygen_galois16", op_keygen_galois16}, {"sizes", op_sizes},
  };
  // Sets in order so that each set's keys are built once.
  for (const std::string set : {"N14", "N15", "N16"}) {
    for (const auto& [name, op] : ops) {
      auto* b = benchmark::RegisterBenchmark(
          (std::string(name) + "/" + set).c_str(), [set, op = op](benchmark::State& state) {
            omp_set_num_threads(static_cast<int>(state.range(0)));
            Bench& bset = bench(set);
            op(state, bset);
          });
      b->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
      if (std::string(name) == "sizes") b->Iterations(1);
      if (set == "N16") b->Iterations(std::string(name).rfind("keygen", 0) == 0 ? 1 : 3);
    }
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
