// The service with the real encrypted U-Net (a tiny random one, as in tests/henn): client keygen and encryption,
// server-side inference over loopback HTTP, client decryption checked against the plaintext forward pass. And the
// server never holds a secret key: secret.key and public.bin uploads are refused, and no file the server keeps
// loads as a secret key, so the server process has nothing to decrypt with.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "../henn/tiny_unet.h"
#include "ckks/encryptor.h"
#include "ckks/encoder.h"
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/key_bundle.h"
#include "henn/planner.h"
#include "nn/forward.h"
#include "serve/henn_backend.h"
#include "serve_fixture.h"

namespace cryptounet::serve::testing {
namespace {

std::vector<io::Plane> random_images(int count, int side) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<io::Plane> out;
  for (int k = 0; k < count; ++k) {
    io::Plane p(side, side, 0.0);
    for (auto& v : p.pixels) v = u(rng);
    out.push_back(std::move(p));
  }
  return out;
}

TEST(HennService, EncryptedRoundTripAndNoSecretOnTheServer) {
  const auto dir = fresh_dir("henn");
  const nn::Model model = henn::testing::tiny_unet(1, 2);
  constexpr int kSide = 16;
  const auto plan = henn::plan_inference(model, kSide, kSide);
  auto [client, eval] = henn::generate_keys(plan);
  henn::save_client_keys((dir / "client").string(), client);
  henn::save_evaluation_keys((dir / "eval.bin").string(), eval);
  const auto images = random_images(3, kSide);
  const auto batch = henn::encrypt_images(client, images, {"a", "b", "c"}, kSide);
  henn::save_batch((dir / "batch.ct").string(), *client.context, batch);

  HennBackend backend(model);
  ServiceConfig config;
  config.data_dir = dir / "server";
  config.workers = 1;
  Service service(config, backend);
  HttpServer http(service);
  const int port = http.bind("127.0.0.1", 0);
  http.serve_in_background();
  ServiceClient c("http://127.0.0.1:" + std::to_string(port));

  // Refused: the secret key (403), the client's public-key file and garbage (400).
  for (const auto& [file, status] : std::vector<std::pair<std::filesystem::path, int>>{
           {dir / "client" / "secret.key", 403}, {dir / "client" / "public.bin", 400}, {dir / "batch.ct", 400}}) {
    try {
      c.upload_keys(file);
      ADD_FAILURE() << file << " was accepted";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), status) << file << ": " << e.what();
    }
  }
  const auto key_id = c.upload_keys(dir / "eval.bin");

  // A batch under other CKKS parameters: 422.
  {
    auto other = ckks::Context::create(ckks::Parameters::create(ckks::ParameterSpec{13, {40, 30}, {40}}));
    ckks::KeyGenerator keygen(other);
    ckks::Encryptor encryptor(other, keygen.secret_key());
    const std::vector<double> zeros(8, 0.0);
    const auto ct = encryptor.encrypt(ckks::Encoder(other).encode(zeros, other->max_level(), 0x1p30));
    henn::save_batch((dir / "other.ct").string(), *other,
                     henn::EncryptedBatch{batch.layout, batch.tile_stride, batch.images, {ct}});
    try {
      c.submit(key_id, dir / "other.ct");
      ADD_FAILURE() << "a batch under other parameters was accepted";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 422) << e.what();
    }
  }

  const auto job_id = c.submit(key_id, dir / "batch.ct");
  const auto final_status = c.wait(job_id, {}, 0.2);
  std::printf("encrypted job: %s\n", final_status.dump().c_str());
  c.download(job_id, dir / "result.ct");

  const auto logits = henn::decrypt_logits(client, henn::BatchRecord::of(client, batch),
                                           henn::load_batch((dir / "result.ct").string(), *client.context));
  ASSERT_EQ(logits.size(), images.size());
  double worst = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto reference = nn::forward(model, nn::Tensor::from_plane(images[i])).back();
    for (std::size_t k = 0; k < logits[i].pixels.size(); ++k)
      worst = std::max(worst, std::abs(logits[i].pixels[k] - reference.data[k]));
  }
  std::printf("served encrypted inference: max abs logit error %.2e vs plaintext\n", worst);
  EXPECT_LT(worst, 1e-3);

  // Nothing the server keeps parses as a secret key for these parameters.
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(config.data_dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    EXPECT_THROW((void)ckks::load_secret_key(entry.path().string(), *client.context), std::exception) << entry.path();
  }
  EXPECT_GT(files, 0);
  http.stop();
  std::filesystem::remove_all(dir);
}

TEST(HennService, KeysForAShallowerModelAreWrongParameters) {
  const auto dir = fresh_dir("henn-params");
  const auto plan = henn::plan_inference(henn::testing::tiny_unet(1, 2), 16, 16);
  auto [client, eval] = henn::generate_keys(plan);
  henn::save_evaluation_keys((dir / "eval.bin").string(), eval);
  // A server running a deeper model needs more levels than these keys were planned for.
  HennBackend deeper(henn::testing::tiny_unet(2, 2));
  try {
    deeper.validate_keys(dir / "eval.bin");
    ADD_FAILURE() << "keys planned for a shallower model were accepted";
  } catch (const UploadRejected& e) {
    EXPECT_EQ(e.reason(), RejectReason::WrongParameters) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cryptounet::serve::testing
