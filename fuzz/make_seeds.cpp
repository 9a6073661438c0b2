// Writes the seed-* files of the committed fuzz corpus: valid inputs for every fuzz target (small parameters, so that
// the fuzzer starts from well-formed objects and explores their fields), each cut to the fuzzers' largest input as
// libFuzzer would cut it: make_seeds <corpus-root> <max-len> [model.onnx model.json] (scripts/fuzz.sh seeds).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "fuzz_context.h"
#include "henn/batch.h"
#include "henn/key_bundle.h"
#include "serve/fake_backend.h"

namespace {

namespace fs = std::filesystem;
using namespace cryptounet;

std::size_t max_len = 0;

void write_seed(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / ("seed-" + name), std::ios::binary) << bytes.substr(0, max_len);
}

void seed(const fs::path& dir, const std::string& name, char selector, const std::string& bytes) {
  write_seed(dir, name, selector + bytes);
}

template <class T>
std::string serialized(const ckks::Context& ctx, const T& object) {
  std::ostringstream out;
  ckks::save(out, ctx, object);
  return out.str();
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: make_seeds <corpus-root> <max-len> [model.onnx model.json]\n";
    return 2;
  }
  const fs::path root = argv[1];
  max_len = std::stoul(argv[2]);
  const auto& ctx = fuzz::small_context();

  // HTTP requests: method selector, delivery mode, path, '\n', body.
  const auto request = [&](const std::string& name, char method, const std::string& path, const std::string& body) {
    seed(root / "fuzz_http", name, method, std::string(1, '\0') + path + "\n" + body);
  };
  request("health", 0, "/healthz", "");
  request("metrics", 0, "/metrics", "");
  request("keys", 1, "/v1/keys", serve::FakeBackend::make_keys(0xC0FFEE, "public keys"));
  request("secret", 1, "/v1/keys", serve::FakeBackend::make_secret_key(0xC0FFEE, "secret"));
  request("submit", 1, "/v1/keys/{K}/jobs", serve::FakeBackend::make_batch(0xC0FFEE, "batch"));
  request("status", 0, "/v1/jobs/{J}", "");
  request("result", 0, "/v1/jobs/{J}/result", "");
  request("delete-job", 2, "/v1/jobs/{J}", "");
  request("get-key", 0, "/v1/keys/{K}", "");

  std::ostringstream params;
  ckks::save(params, ctx->parameters());
  write_seed(root / "fuzz_ckks_params", "params", params.str());  // this target has no selector byte

  ckks::KeyGenerator keygen(ctx);
  const auto public_key = keygen.create_public_key();
  const auto relin = keygen.create_relin_key();
  const std::vector<int> steps = {1, -1};
  const auto galois = keygen.create_galois_keys(steps);
  const auto objects = root / "fuzz_ckks_objects";  // selector bytes as in fuzz_ckks_objects.cpp
  seed(objects, "secret", 0, serialized(*ctx, keygen.secret_key()));
  seed(objects, "public", 1, serialized(*ctx, public_key));
  seed(objects, "relin", 2, serialized(*ctx, relin));
  seed(objects, "galois", 3, serialized(*ctx, galois));

  ckks::Encoder encoder(ctx);
  ckks::Encryptor encryptor(ctx, public_key);
  const std::vector<double> values(16, 0.5);
  const auto pt = encoder.encode(values, ctx->max_level(), 0x1p30);
  const auto ct = encryptor.encrypt(pt);
  seed(objects, "ct", 4, serialized(*ctx, ct));
  seed(objects, "cts", 5, serialized(*ctx, std::vector<ckks::Ciphertext>{ct, ct}));
  seed(objects, "pt", 6, serialized(*ctx, pt));

  henn::InferencePlan plan;
  plan.spec = ctx->parameters().spec();
  plan.layout = henn::Layout::create(16, 16, static_cast<int>(ctx->slot_count()), 0);
  plan.levels = ctx->max_level();
  plan.rotation_steps = steps;
  plan.input_scale = 0x1p30;
  std::ostringstream plan_bytes;
  henn::save_plan(plan_bytes, plan, ctx->parameters());
  seed(root / "fuzz_henn_files", "plan", 0, plan_bytes.str());
  const auto tmp = fs::temp_directory_path() / "cryptounet-make-seeds.bin";
  henn::save_evaluation_keys(tmp.string(), henn::EvaluationKeys{plan, ctx, relin, galois});
  seed(root / "fuzz_henn_files", "eval", 1, read_all(tmp));
  seed(root / "fuzz_henn_files", "eval-header", 3, read_all(tmp));
  henn::EncryptedBatch batch{plan.layout, 12, {{"img", 16, 16}}, {ct}};
  henn::save_batch(tmp.string(), *ctx, batch);
  seed(root / "fuzz_henn_files", "batch", 2, read_all(tmp));
  fs::remove(tmp);

  if (argc >= 5) {
    seed(root / "fuzz_model", "onnx", 0, read_all(argv[3]));
    seed(root / "fuzz_model", "json", 1, read_all(argv[4]));
  }
  std::cout << "seeds written to " << root << "\n";
  return 0;
}
