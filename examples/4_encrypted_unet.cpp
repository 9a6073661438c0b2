// Example 4: an encrypted U-Net, end to end.
//
// The library's whole path in five steps, with the roles kept apart as in the real deployment:
//   1. plan     (anyone)  — from the model and the tile size: levels, ring degree, primes, layout, rotation steps;
//   2. keys     (client)  — the secret key stays with the client, the evaluation keys go to the server;
//   3. encrypt  (client)  — tiles packed Volley-Revolver style, many tiles per ciphertext;
//   4. infer    (server)  — run_inference with the evaluation keys only: it never sees a pixel;
//   5. decrypt  (client)  — only the answer to a batch it recorded; one logit map per image, compared here with the
//                           plaintext network.
// The model is a two-level U-Net built here with random weights (conv + quadratic activation, average pooling,
// transposed convolution, skip concatenation, 1x1 head), small enough to run in seconds; `cryptounet keygen/encrypt/
// infer/decrypt` do the same with a trained ONNX model.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/inference.h"
#include "henn/key_bundle.h"
#include "henn/planner.h"
#include "io/image.h"
#include "nn/forward.h"
#include "nn/model.h"

using namespace cryptounet;

namespace {

// input -> [conv3x3 + activation] -> pool -> [conv3x3 + activation] -> up (transposed conv) -> concat with the
// skip -> 1x1 head.
nn::Model tiny_unet() {
  std::mt19937 rng(2024);
  std::normal_distribution<double> normal(0.0, 1.0);
  nn::Model m;
  m.name = "example_unet";
  auto push = [&](nn::Node n) {
    n.name = std::string(nn::op_name(n.op)) + "_" + std::to_string(m.nodes.size());
    m.nodes.push_back(std::move(n));
    return static_cast<int>(m.nodes.size()) - 1;
  };
  auto linear = [&](nn::Op op, int from, int out, int kernel) {
    nn::Node n;
    n.op = op;
    n.inputs = {from};
    n.in_channels = m.nodes[from].channels;
    n.channels = out;
    n.kernel = kernel;
    n.padding = op == nn::Op::Conv2d ? kernel / 2 : 0;
    const double sd = 1.0 / std::sqrt(n.in_channels * kernel * kernel);
    for (int i = 0; i < out * n.in_channels * kernel * kernel; ++i) n.weight.push_back(sd * normal(rng));
    n.bias.assign(out, 0.05);
    return push(n);
  };
  auto activation = [&](int from) {  // the HE-friendly activation a*x^2 + b*x (trained in place of ReLU)
    nn::Node n;
    n.op = nn::Op::Quadratic;
    n.inputs = {from};
    n.channels = m.nodes[from].channels;
    n.a.assign(n.channels, 0.125);
    n.b.assign(n.channels, 0.5);
    return push(n);
  };
  nn::Node input;
  input.channels = 1;
  const int x = push(input);
  const int skip = activation(linear(nn::Op::Conv2d, x, 2, 3));
  nn::Node pool;
  pool.op = nn::Op::AvgPool2x2;
  pool.inputs = {skip};
  pool.channels = 2;
  const int low = activation(linear(nn::Op::Conv2d, push(pool), 4, 3));
  const int up = linear(nn::Op::ConvTranspose2d, low, 2, 2);
  nn::Node cat;
  cat.op = nn::Op::Concat;
  cat.inputs = {up, skip};
  cat.channels = 4;
  linear(nn::Op::Conv2d, push(cat), 1, 1);
  m.validate();
  return m;
}

// A bright blob on a dark background, like a normalized nucleus.
io::Plane blob(int side, double cy, double cx) {
  io::Plane p(side, side, -0.5);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) p.at(y, x) += 2.0 * std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / 4.0);
  return p;
}

}  // namespace

int main() {
  const nn::Model model = tiny_unet();
  const int side = 8;

  // 1. Plan. Each conv + activation costs two levels, the transposed conv and the head one each: 6 levels fit the
  // 128-bit bound at N = 2^14, whose 8192 slots hold 128 tiles of 8x8 (64-slot blocks) per ciphertext.
  const henn::InferencePlan plan = henn::plan_inference(model, side, side);
  std::printf("plan: %s\n", plan.describe().c_str());

  // 2. Keys. The client keeps ClientKeys (secret key); EvaluationKeys (relinearization + one Galois key per
  // rotation step of the plan) are what it sends to the server.
  auto [client, server] = henn::generate_keys(plan);

  // 3. Encrypt. Three 8x8 images, one tile each (tile stride = side): all three share one ciphertext.
  std::vector<io::Plane> images = {blob(side, 2, 2), blob(side, 5, 3), blob(side, 4, 6)};
  const std::vector<std::string> names = {"a", "b", "c"};
  const henn::EncryptedBatch batch = henn::encrypt_images(client, images, names, side);
  // The client records what it submitted (batch id, parameters, layout, sizes); `cryptounet encrypt` saves it in the
  // key folder. CKKS decryptions of ciphertexts chosen by someone else can leak the secret key, so step 5 decrypts
  // only a result that answers this record.
  const henn::BatchRecord record = henn::BatchRecord::of(client, batch);
  std::printf("encrypted %zu tiles into %zu ciphertext(s) at level %d\n", batch.tile_count(), batch.ciphertexts.size(),
              batch.ciphertexts.front().level());

  // 4. Infer, on the server: the model and the evaluation keys only. The progress callback sees every node.
  henn::InferenceStats stats;
  const henn::EncryptedBatch logits = henn::run_inference(
      model, server, batch, [](const henn::NodeProgress& p) { std::printf("  %s\n", henn::describe(p).c_str()); },
      &stats);
  std::printf("inference: %.2f s, %llu rotations, %llu relinearizations\n", stats.seconds,
              static_cast<unsigned long long>(stats.counts.rotations),
              static_cast<unsigned long long>(stats.counts.relinearizations));

  // 5. Decrypt, on the client, and compare with the plaintext network.
  const std::vector<io::Plane> decrypted = henn::decrypt_logits(client, record, logits);
  double max_error = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const nn::Tensor reference = nn::forward(model, nn::Tensor::from_plane(images[i])).back();
    for (std::size_t k = 0; k < reference.data.size(); ++k)
      max_error = std::max(max_error, std::abs(decrypted[i].pixels[k] - reference.data[k]));
  }
  std::printf("decrypted %zu logit maps; max |encrypted - plaintext| = %.2e\n", decrypted.size(), max_error);
  return max_error < 1e-3 ? 0 : 1;
}
