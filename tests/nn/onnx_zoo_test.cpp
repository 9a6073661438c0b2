// Models written and exported the ordinary way (tests/nn/onnx_zoo.py: torch.onnx.export, opsets 13 and 17) load and
// match PyTorch's float64 output to 1e-6; the encrypted network's layer algorithms, run on the exact plaintext
// backend over the tiny layout, reproduce the reference at every node (or the encrypted path refuses the model,
// naming the node); the non-HE-friendly ones are refused at load, naming the op and its replacement.
// Run by tests/nn/onnx_zoo.sh, which exports the zoo first (CRYPTOUNET_ONNX_ZOO = its folder).
#include "henn/compare.h"
#include "henn/layout.h"
#include "henn/network.h"
#include "henn/plain_backend.h"
#include "henn/schedule.h"
#include "nn/forward.h"
#include "nn/onnx_loader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

namespace cryptounet {
namespace {

std::string zoo_dir() {
  const char* dir = std::getenv("CRYPTOUNET_ONNX_ZOO");
  return dir ? dir : "";
}

nlohmann::json manifest() {
  std::ifstream in(zoo_dir() + "/manifest.json");
  if (!in) throw std::runtime_error("no manifest.json in '" + zoo_dir() + "' (run tests/nn/onnx_zoo.sh)");
  return nlohmann::json::parse(in);
}

// Loading must fail with a message that contains every one of `words`.
template <class Load>
void expect_refusal(Load&& load, const nlohmann::json& words) {
  try {
    load();
    ADD_FAILURE() << "accepted a model that must be refused";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    for (const auto& w : words) EXPECT_NE(what.find(w.get<std::string>()), std::string::npos) << what;
  }
}

// Max |C++ - PyTorch| over the logits of the manifest's input.
double reference_error(const nn::Model& model, const nlohmann::json& entry) {
  const auto shape = entry.at("input_shape").get<std::vector<int>>();
  nn::Tensor x(shape.at(1), shape.at(2), shape.at(3));
  x.data = entry.at("input").get<std::vector<double>>();
  const nn::Tensor y = nn::forward_output(model, x);
  const auto expected = entry.at("output").get<std::vector<double>>();
  if (y.size() != expected.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(y.data[i] - expected[i]));
  return worst;
}

// The encrypted layer code on exact slot vectors: `ciphertexts` inputs of 2 random 16x16 tiles each (more than one
// interleaves lanes at stride 2); every node must match nn::forward up to the weight rounding (2^-24).
void expect_layout_matches_reference(const nn::Model& model, int ciphertexts) {
  const henn::Schedule schedule = henn::Schedule::create(model);
  const henn::Layout layout = henn::Layout::create(16, 16, 2048, model.pooling_depth());
  std::vector<double> primes{0x1p60};
  for (int l = 1; l <= schedule.levels; ++l) primes.push_back(0x1p40 * (1.0 - 1e-7 * l));
  henn::PlainBackend be(layout.slots, primes);
  std::mt19937 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<std::vector<nn::Tensor>> reference;  // [ciphertext * 2 + tile][node]
  std::vector<henn::PlainBackend::Value> inputs;
  for (int c = 0; c < ciphertexts; ++c) {
    std::vector<nn::Tensor> tiles(2, nn::Tensor(1, 16, 16));
    std::vector<const std::vector<double>*> planes;
    for (auto& t : tiles) {
      for (double& v : t.data) v = normal(rng);
      reference.push_back(nn::forward(model, t));
      planes.push_back(&t.data);
    }
    inputs.push_back(be.encrypt(layout.pack(planes), schedule.levels, 0x1p32));
  }
  int compared = 0;
  auto on_node = [&](int node, double, const henn::LaneMaps<henn::PlainBackend::Value>& out) {
    std::vector<henn::DecodedMap> maps;
    for (const auto& m : out) maps.push_back(henn::decode_map(m, [](const auto& v) { return v.slots; }));
    std::vector<std::vector<const nn::Tensor*>> refs(ciphertexts);
    for (int c = 0; c < ciphertexts; ++c)
      for (int b = 0; b < 2; ++b) refs[c].push_back(&reference[c * 2 + b][node]);
    EXPECT_LT(henn::max_abs_error(layout, maps, refs), 1e-5) << "node " << model.nodes[node].name;
    ++compared;
  };
  henn::LayerOptions options;
  options.weight_bits = 24;
  henn::run_network(be, model, layout, inputs, options, on_node);
  EXPECT_GT(compared, 3);
}

TEST(OnnxZoo, PyTorchExportsLoadAndMatchWithin1e6) {
  if (zoo_dir().empty()) GTEST_SKIP() << "run by tests/nn/onnx_zoo.sh";
  int matched = 0, refused = 0, encrypted = 0, refused_encrypted = 0;
  for (const auto& entry : manifest()) {
    const std::string file = zoo_dir() + "/" + entry.at("file").get<std::string>();
    SCOPED_TRACE(file);
    if (entry.contains("error_words")) {
      expect_refusal([&] { nn::load_onnx(file); }, entry.at("error_words"));
      ++refused;
      continue;
    }
    nn::Model model;
    try {
      model = nn::load_onnx(file);
    } catch (const std::runtime_error& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    EXPECT_LT(reference_error(model, entry), 1e-6) << "max |C++ - PyTorch| over the logits";
    ++matched;
    if (entry.contains("encrypted_error_words")) {
      expect_refusal([&] { henn::Schedule::create(model); }, entry.at("encrypted_error_words"));
      ++refused_encrypted;
      continue;
    }
    for (int ciphertexts : {1, 4}) {
      SCOPED_TRACE(std::to_string(ciphertexts) + " ciphertexts");
      try {
        expect_layout_matches_reference(model, ciphertexts);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
    ++encrypted;
  }
  EXPECT_GE(matched, 20);
  EXPECT_GE(encrypted, 18);
  EXPECT_GE(refused_encrypted, 6);
  EXPECT_GE(refused, 6);
}

}  // namespace
}  // namespace cryptounet
