// Uploads judged by their header with real henn files (a tiny U-Net): a key bundle or a batch that does not fit the
// server's model is refused after its first bytes, before the gigabytes behind them are read; files are told apart
// by their header (henn::identify_file); and the evaluation-key cache follows the bytes of a file, not its inode.
#include <gtest/gtest.h>

#include <fstream>

#include "../henn/tiny_unet.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/keygenerator.h"
#include "henn/batch.h"
#include "henn/key_bundle.h"
#include "henn/planner.h"
#include "henn/upload_check.h"
#include "serve/henn_backend.h"
#include "serve/upload_gate.h"
#include "serve_fixture.h"

namespace cryptounet::serve::testing {
namespace {

constexpr int kSide = 16;

// Keys (and a client) for `model` on 16x16 tiles, with the scaling primes of `scale_bits` bits.
std::pair<henn::ClientKeys, henn::EvaluationKeys> keys_for(const nn::Model& model, int scale_bits = 40) {
  henn::PlanOptions options;
  options.scale_bits = scale_bits;
  return henn::generate_keys(henn::plan_inference(model, kSide, kSide, options));
}

henn::EncryptedBatch one_image_batch(const henn::ClientKeys& client) {
  io::Plane plane(kSide, kSide, 0.25);
  return henn::encrypt_images(client, {plane}, {"a"}, kSide);
}

// A file followed by 64 MiB more, as a key bundle of production size: a server that judges the header reads at
// most the drain after its refusal.
std::string padded(const std::string& file) { return file + std::string(std::size_t{64} << 20, '\0'); }
constexpr std::size_t kReadAtMost = 4096 + UploadGate::kDrainBytes;

// Streams `bytes` to the service in 4 KiB chunks; counts how many of them it read.
struct StreamedUpload {
  std::string bytes;
  std::size_t bytes_read = 0;
  Response send(Service& service, const std::string& path) {
    Request request{"POST", path, [this](const BodySink& sink) {
                      for (std::size_t at = 0; at < bytes.size(); at += 4096) {
                        const auto size = std::min<std::size_t>(4096, bytes.size() - at);
                        if (!sink(bytes.data() + at, size)) return false;
                        bytes_read += size;
                      }
                      return true;
                    },
                    bytes.size(), ""};
    return service.handle(request);
  }
};

class HennUploads : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
};

TEST_F(HennUploads, KeysForAnotherModelAreRefusedAtTheirHeader) {
  auto [client, eval] = keys_for(henn::testing::tiny_unet(1, 2));
  henn::save_evaluation_keys((dir_ / "eval.bin").string(), eval);
  HennBackend deeper(henn::testing::tiny_unet(2, 2));  // needs more levels than these keys were planned for
  ServiceConfig config;
  config.data_dir = dir_ / "server";
  Service service(config, deeper);
  StreamedUpload upload{padded(read_file(dir_ / "eval.bin"))};
  const auto response = upload.send(service, "/v1/keys");
  EXPECT_EQ(response.status, 422) << response.body;
  EXPECT_NE(response.body.find("levels"), std::string::npos) << response.body;
  // The rest was never read: only the header and the bounded drain after the refusal.
  EXPECT_LE(upload.bytes_read, kReadAtMost);
}

TEST_F(HennUploads, ABatchUnderOtherParametersIsRefusedAtItsHeader) {
  const auto model = henn::testing::tiny_unet(1, 2);
  auto [client, eval] = keys_for(model);
  henn::save_evaluation_keys((dir_ / "eval.bin").string(), eval);
  // The batch's layout, its ciphertext under other CKKS parameters (a secret key of its own, no Galois keys).
  const auto other = ckks::Context::create(ckks::Parameters::create(ckks::ParameterSpec{13, {40, 30}, {40}}));
  ckks::KeyGenerator keygen(other);
  const std::vector<double> zeros(8, 0.0);
  const auto ct = ckks::Encryptor(other, keygen.secret_key()).encrypt(ckks::Encoder(other).encode(zeros, 1, 0x1p30));
  const auto batch_layout = one_image_batch(client);
  henn::save_batch((dir_ / "other.ct").string(), *other,
                   henn::EncryptedBatch{batch_layout.layout, batch_layout.tile_stride, batch_layout.images, {ct}});
  HennBackend backend(model);
  ServiceConfig config;
  config.data_dir = dir_ / "server";
  Service service(config, backend);
  StreamedUpload keys{read_file(dir_ / "eval.bin")};
  const auto registered = keys.send(service, "/v1/keys");
  ASSERT_EQ(registered.status, 201) << registered.body;
  const auto key_id = nlohmann::json::parse(registered.body)["key_id"].get<std::string>();
  StreamedUpload batch{padded(read_file(dir_ / "other.ct"))};
  const auto response = batch.send(service, "/v1/keys/" + key_id + "/jobs");
  EXPECT_EQ(response.status, 422) << response.body;
  EXPECT_NE(response.body.find("other CKKS parameters"), std::string::npos) << response.body;
  EXPECT_LE(batch.bytes_read, kReadAtMost);
}

TEST_F(HennUploads, FilesAreIdentifiedAndHeadersReadFromTheirFirstBytes) {
  auto [client, eval] = keys_for(henn::testing::tiny_unet(1, 2));
  henn::save_client_keys((dir_ / "client").string(), client);
  henn::save_evaluation_keys((dir_ / "eval.bin").string(), eval);
  henn::save_batch((dir_ / "batch.ct").string(), *client.context, one_image_batch(client));
  const auto eval_bytes = read_file(dir_ / "eval.bin");
  EXPECT_EQ(henn::identify_file(eval_bytes.substr(0, 4)), std::nullopt);
  EXPECT_EQ(henn::identify_file(eval_bytes), henn::FileKind::EvaluationKeys);
  EXPECT_EQ(henn::identify_file(read_file(dir_ / "batch.ct")), henn::FileKind::EncryptedBatch);
  EXPECT_EQ(henn::identify_file(read_file(dir_ / "client" / "public.bin")), henn::FileKind::ClientPublicKey);
  EXPECT_EQ(henn::identify_file(read_file(dir_ / "client" / "secret.key")), henn::FileKind::SecretKey);
  const std::string secret_head = read_file(dir_ / "client" / "secret.key").substr(0, henn::kFileKindBytes);
  EXPECT_EQ(henn::identify_file(secret_head), henn::FileKind::SecretKey);
  EXPECT_EQ(henn::identify_file(secret_head.substr(0, 8)), std::nullopt);
  EXPECT_EQ(henn::identify_file(random_bytes(64, 3)), henn::FileKind::Unknown);
  // A prefix too short for the header asks for more; the first prefix that holds it gives the plan.
  std::size_t header_bytes = 0;
  while (!henn::read_keys_header(std::string_view(eval_bytes).substr(0, header_bytes))) ++header_bytes;
  const auto header = henn::read_keys_header(std::string_view(eval_bytes).substr(0, header_bytes));
  EXPECT_EQ(header->plan.rotation_steps, eval.plan.rotation_steps);
  EXPECT_TRUE(header->parameters == eval.context->parameters());
  EXPECT_LT(header_bytes, 4096u);
  // Bad bytes inside the header are an error, not a wait for more.
  auto corrupted = eval_bytes.substr(0, header_bytes);
  corrupted[15] = '\x7f';  // the high byte of the tile height
  EXPECT_THROW((void)henn::read_keys_header(corrupted), std::runtime_error);
}

// Rewrites a file in place: same path, same inode, other bytes.
void overwrite_in_place(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc);
  out << bytes;
}

TEST_F(HennUploads, TheKeyCacheFollowsTheFileContentNotItsInode) {
  const auto model = henn::testing::tiny_unet(1, 2);
  auto [client_a, eval_a] = keys_for(model);
  auto [client_b, eval_b] = keys_for(model, 36);
  henn::save_evaluation_keys((dir_ / "a.bin").string(), eval_a);
  henn::save_evaluation_keys((dir_ / "b.bin").string(), eval_b);
  henn::save_batch((dir_ / "b.ct").string(), *client_b.context, one_image_batch(client_b));
  const auto keys = dir_ / "keys.bin";
  write_file(keys, read_file(dir_ / "a.bin"));
  HennBackend backend(model);
  backend.validate_keys(keys);  // A is loaded and cached

  // The same inode now holds other bytes: garbage after a valid-looking start is refused, not served from the cache.
  auto garbage = read_file(dir_ / "a.bin");
  std::fill(garbage.begin() + static_cast<std::ptrdiff_t>(garbage.size() / 2), garbage.end(), '\xff');
  overwrite_in_place(keys, garbage);
  EXPECT_THROW(backend.validate_keys(keys), UploadRejected);

  // Another client's keys at the same inode: a batch for them is judged with them, never with A's.
  overwrite_in_place(keys, read_file(dir_ / "b.bin"));
  EXPECT_NO_THROW(backend.validate_batch(dir_ / "b.ct", keys));
  overwrite_in_place(keys, read_file(dir_ / "a.bin"));
  EXPECT_THROW(backend.validate_batch(dir_ / "b.ct", keys), UploadRejected);
  EXPECT_NE(hash_file(dir_ / "a.bin"), hash_file(dir_ / "b.bin"));
  EXPECT_EQ(hash_file(dir_ / "a.bin"), hash_file(keys));
}

}  // namespace
}  // namespace cryptounet::serve::testing
