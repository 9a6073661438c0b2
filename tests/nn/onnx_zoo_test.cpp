// Models written and exported the ordinary way (tests/nn/onnx_zoo.py: torch.onnx.export, opsets 13 and 17; gray or
// RGB input, 1 to 3 logit channels) load and match PyTorch's float64 output to 1e-6; the encrypted network's layer
// algorithms, run on the exact plaintext backend over the tiny layout, reproduce the reference at every node (or the
// encrypted path refuses the model, naming the node); the non-HE-friendly ones are refused at load, naming the op
// and its replacement. Depths 1 to 3, AvgPool2d or the strided 2x2 convolution, with and without batch norm (also
// after a concat). The models marked "ckks" also run on real ciphertexts (N = 2^15): the decrypted logits match
// the plaintext backend and their argmax is the reference's class label image.
// Run by tests/nn/onnx_zoo.sh, which exports the zoo first (CRYPTOUNET_ONNX_ZOO = its folder).
#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/compare.h"
#include "henn/inference.h"
#include "henn/key_bundle.h"
#include "henn/layout.h"
#include "henn/network.h"
#include "henn/plain_backend.h"
#include "henn/planner.h"
#include "henn/schedule.h"
#include "nn/forward.h"
#include "nn/onnx_loader.h"
#include "nn/output_decoding.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <utility>

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

// Channel c of `tiles` packed into one slot vector.
std::vector<double> pack_channel(const henn::Layout& layout, const std::vector<nn::Tensor>& tiles, int c) {
  std::vector<std::vector<double>> planes;
  for (const auto& t : tiles) planes.emplace_back(t.channel(c), t.channel(c) + t.plane_size());
  std::vector<const std::vector<double>*> pointers;
  for (const auto& p : planes) pointers.push_back(&p);
  return layout.pack(pointers);
}

// The encrypted layer code on exact slot vectors: `ciphertexts` lanes of 2 random 16x16 tiles each (more than one
// interleaves lanes at stride 2), one slot vector per input channel; every node must match nn::forward up to the
// weight rounding (2^-24).
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
  const int channels = model.input().channels;
  for (int c = 0; c < ciphertexts; ++c) {
    std::vector<nn::Tensor> tiles(2, nn::Tensor(channels, 16, 16));
    for (auto& t : tiles) {
      for (double& v : t.data) v = normal(rng);
      reference.push_back(nn::forward(model, t));
    }
    for (int ch = 0; ch < channels; ++ch)
      inputs.push_back(be.encrypt(pack_channel(layout, tiles, ch), schedule.levels, 0x1p32));
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

// On ciphertexts: one tile group of 4 random tiles, keys planned for the model; the decrypted K logit maps match the
// same layer code on the exact plaintext backend (same primes) within the tiny U-Net's bound, and their argmax is
// the reference's label image wherever the reference's best class leads by more than that.
void expect_ckks_matches_plain(const nn::Model& model) {
  const henn::InferencePlan plan = henn::plan_inference(model, 16, 16);
  auto [client, eval] = henn::generate_keys(plan);
  std::mt19937 rng(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int channels = model.input().channels, classes = model.output().channels;
  std::vector<nn::Tensor> images(4, nn::Tensor(channels, 16, 16));
  for (auto& t : images)
    for (double& v : t.data) v = normal(rng);
  const henn::EncryptedBatch submitted = henn::encrypt_images(client, images, {"a", "b", "c", "d"}, 16);
  const henn::EncryptedBatch result = henn::run_inference(model, eval, submitted);
  const auto logits = henn::decrypt_logit_maps(client, henn::BatchRecord::of(client, submitted, classes), result);

  std::vector<double> primes;
  for (int l = 0; l <= plan.levels; ++l) primes.push_back(static_cast<double>(client.context->prime(l)));
  henn::PlainBackend be(plan.layout.slots, primes);
  const int levels = henn::Schedule::create(model).levels;
  std::vector<henn::PlainBackend::Value> inputs;
  for (int c = 0; c < channels; ++c)
    inputs.push_back(be.encrypt(pack_channel(plan.layout, images, c), levels, plan.input_scale));
  const auto plain = henn::run_network(be, model, plan.layout, inputs, plan.layer);
  ASSERT_EQ(plain.size(), static_cast<std::size_t>(classes));
  double worst = 0, range = 0;
  for (std::size_t i = 0; i < images.size(); ++i)
    for (int k = 0; k < classes; ++k) {
      const auto expected = plan.layout.unpack(plain[k].slots, static_cast<int>(i));
      for (std::size_t p = 0; p < expected.size(); ++p) {
        worst = std::max(worst, std::abs(logits[i].channel(k)[p] - expected[p]));
        range = std::max(range, std::abs(expected[p]));
      }
    }
  std::printf("ckks: %d channels in, %d out: max abs error %.2e vs the plain backend, max|logit| %.1f\n", channels,
              classes, worst, range);
  EXPECT_LT(worst, 5e-4 * std::max(1.0, range));
  int decided = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const nn::Tensor reference = nn::forward_output(model, images[i]);
    const io::LabelImage labels = nn::class_labels(logits[i]), truth = nn::class_labels(reference);
    for (std::size_t p = 0; p < labels.pixels.size(); ++p) {
      double best = -INFINITY, second = -INFINITY;
      for (int k = 0; k < classes; ++k) {
        const double v = reference.channel(k)[p];
        if (v > best) second = std::exchange(best, v);
        else second = std::max(second, v);
      }
      if (best - second < 1e-2 * std::max(1.0, range)) continue;
      EXPECT_EQ(labels.pixels[p], truth.pixels[p]) << "tile " << i << " pixel " << p;
      ++decided;
    }
  }
  EXPECT_GT(decided, 4 * 16 * 16 / 2);
}

TEST(OnnxZoo, PyTorchExportsLoadAndMatchWithin1e6) {
  if (zoo_dir().empty()) GTEST_SKIP() << "run by tests/nn/onnx_zoo.sh";
  int matched = 0, refused = 0, encrypted = 0, refused_encrypted = 0, ckks = 0, multichannel = 0;
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
    multichannel += model.input().channels > 1 || model.output().channels > 1;
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
    if (entry.value("ckks", false)) {
      expect_ckks_matches_plain(model);
      ++ckks;
    }
  }
  EXPECT_GE(matched, 50);
  EXPECT_GE(encrypted, 44);
  EXPECT_GE(refused_encrypted, 6);
  EXPECT_GE(refused, 6);
  EXPECT_GE(multichannel, 12);
  EXPECT_GE(ckks, 2);
}

}  // namespace
}  // namespace cryptounet
