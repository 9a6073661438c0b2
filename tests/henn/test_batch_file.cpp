// Batch files and results from the client's side of the trust boundary: load_batch bounds every size by the
// ciphertexts before building anything; a client decrypts only the result of a batch it recorded (same batch id,
// parameters, layout, sizes, level, scale, count) and names its outputs after its own inputs, never the server's
// bytes. Small CKKS parameters (N = 2^13) and an identity "network" (the result is the input dropped to level 0),
// so that these tests take milliseconds.
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "henn/batch.h"
#include "henn/batch_record.h"
#include "henn/flooding.h"
#include "henn/wire.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cryptounet::henn {
namespace {

namespace fs = std::filesystem;

constexpr int kTile = 16;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("batch_file_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Client keys whose "inference" is the identity: results are the inputs at level 0, at the same scale.
ClientKeys identity_keys() {
  ClientKeys keys;
  keys.context = ckks::Context::create(ckks::Parameters::create(ckks::ParameterSpec{13, {60, 40, 40}, {60}}));
  keys.plan.layout = Layout::create(kTile, kTile, static_cast<int>(keys.context->slot_count()), 0);
  keys.plan.levels = keys.context->max_level();
  keys.plan.input_scale = 0x1p40;
  keys.plan.layer.output_scale = 0x1p40;
  ckks::KeyGenerator keygen(keys.context);
  keys.secret = keygen.secret_key();
  return keys;
}

std::vector<io::Plane> ramp_images(const std::vector<std::pair<int, int>>& sizes) {
  std::vector<io::Plane> out;
  for (auto [w, h] : sizes) {
    io::Plane p(w, h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) p.at(y, x) = 0.01 * x - 0.02 * y + 0.5;
    out.push_back(std::move(p));
  }
  return out;
}

EncryptedBatch identity_result(const EncryptedBatch& submitted) {
  EncryptedBatch result{submitted.layout, submitted.tile_stride, {}, submitted.ciphertexts, submitted.id};
  for (const auto& img : submitted.images) result.images.push_back({"", img.width, img.height});
  for (auto& ct : result.ciphertexts) ct.drop_to_level(0);
  return result;
}

struct Submission {
  ClientKeys keys = identity_keys();
  std::vector<io::Plane> images = ramp_images({{40, 23}, {16, 16}, {7, 50}});
  EncryptedBatch batch = encrypt_images(keys, images, {"first", "second", "third"}, 12);
  BatchRecord record = BatchRecord::of(keys, batch);
};

void expect_refused(const BatchRecord& record, const ClientKeys& keys, const EncryptedBatch& result,
                    const std::string& because) {
  try {
    (void)decrypt_logits(keys, record, result);
    ADD_FAILURE() << "decrypted a result with " << because;
  } catch (const ResultMismatch& e) {
    EXPECT_NE(std::string(e.what()).find("nothing decrypted"), std::string::npos) << e.what();
  }
}

// A batch header written field by field, for inputs no client would produce.
struct RawBatch {
  std::ostringstream out;
  RawBatch(int tile, int slots, int stride, std::uint32_t ciphertexts, std::uint32_t images) {
    out.write("CUNB", 4);
    wire::put<std::uint16_t>(out, 2);
    out.write("0123456789abcdef", 16);
    for (int v : {tile, tile, slots, stride}) wire::put<std::int32_t>(out, v);
    wire::put<std::uint32_t>(out, ciphertexts);
    wire::put<std::uint32_t>(out, images);
  }
  void image(int w, int h) {
    wire::put<std::int32_t>(out, w);
    wire::put<std::int32_t>(out, h);
  }
  std::string write(const fs::path& path) const {
    std::ofstream(path, std::ios::binary) << out.str();
    return path.string();
  }
};

std::string load_error(const std::string& path, const ckks::Context& context) {
  try {
    (void)load_batch(path, context);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(BatchFile, RoundTripKeepsIdSizesAndCiphertextsButNoNames) {
  const Submission s;
  const fs::path dir = fresh_dir("roundtrip");
  save_batch((dir / "b.ct").string(), *s.keys.context, s.batch);
  const EncryptedBatch loaded = load_batch((dir / "b.ct").string(), *s.keys.context);
  EXPECT_EQ(loaded.id, s.batch.id);
  EXPECT_EQ(read_batch_id((dir / "b.ct").string()), s.batch.id);
  ASSERT_EQ(loaded.images.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(loaded.images[i].name.empty()) << "image names must stay with the client";
    EXPECT_EQ(loaded.images[i].width, s.batch.images[i].width);
    EXPECT_EQ(loaded.images[i].height, s.batch.images[i].height);
  }
  EXPECT_EQ(loaded.ciphertexts.size(), s.batch.ciphertexts.size());
  EXPECT_EQ(loaded.tile_count(), s.batch.tile_count());
  // Fresh ids for every batch (libsodium), also for the same images.
  EXPECT_NE(encrypt_images(s.keys, s.images, {"a", "b", "c"}, 12).id, s.batch.id);
}

TEST(BatchFile, DataAfterTheCiphertextsIsRefused) {
  const Submission s;
  const fs::path dir = fresh_dir("trailing");
  save_batch((dir / "b.ct").string(), *s.keys.context, s.batch);
  std::ofstream(dir / "b.ct", std::ios::binary | std::ios::app) << "appended";
  EXPECT_NE(load_error((dir / "b.ct").string(), *s.keys.context).find("after the ciphertexts"), std::string::npos);
}

// 2^20 images of 65536^2 at 1x1 tiles used to be accepted into tile grids (seconds of CPU for a 49 KB file); now
// the first image that does not fit the declared ciphertexts ends the load, before the rest of the file is read.
TEST(BatchFile, ImageSizesAreBoundedByTheCiphertextsBeforeAnyGrid) {
  const auto context = identity_keys().context;
  const int slots = static_cast<int>(context->slot_count());
  const fs::path dir = fresh_dir("bounds");

  RawBatch huge(1, slots, 1, 1, 16);
  for (int i = 0; i < 2; ++i) huge.image(65536, 65536);  // truncated: the image sizes alone must end the load
  const std::string huge_error = load_error(huge.write(dir / "huge.ct"), *context);
  EXPECT_NE(huge_error.find("tiles that 1 ciphertexts hold"), std::string::npos) << huge_error;

  RawBatch many(kTile, slots, kTile, 1, 1 << 20);
  const std::string many_error = load_error(many.write(dir / "many.ct"), *context);
  EXPECT_NE(many_error.find("cannot fit in 1 ciphertexts"), std::string::npos) << many_error;

  // Fits the declared capacity but declares more ciphertexts than the most channels the images' tiles can have.
  RawBatch loose(kTile, slots, kTile, kMaxBatchChannels + 1, 1);
  loose.image(16, 16);
  const std::string loose_error = load_error(loose.write(dir / "loose.ct"), *context);
  EXPECT_NE(loose_error.find("1 tiles need 1 ciphertexts per channel (at most 256 channels), the header declares 257"),
            std::string::npos)
      << loose_error;

  EXPECT_NE(load_error(RawBatch(kTile, slots, kTile, 1, 0).write(dir / "empty.ct"), *context).find("image count"),
            std::string::npos);
  RawBatch wide(kTile, slots, kTile, 1, 1);
  wide.image(65537, 1);
  EXPECT_NE(load_error(wide.write(dir / "wide.ct"), *context).find("image width"), std::string::npos);
}

TEST(BatchRecord, TheSubmittedBatchsResultDecrypts) {
  const Submission s;
  const fs::path dir = fresh_dir("record");
  save_batch_record(dir.string(), s.record);
  const auto mode = fs::status(batch_record_path(dir.string(), s.batch.id)).permissions();
  EXPECT_EQ(mode & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  const BatchRecord loaded = load_batch_record(dir.string(), s.batch.id);
  EXPECT_EQ(loaded.images, s.record.images);
  EXPECT_EQ(loaded.result_scale, s.record.result_scale);

  save_batch((dir / "result.ct").string(), *s.keys.context, identity_result(s.batch));
  const auto logits = decrypt_logits(s.keys, loaded, load_batch((dir / "result.ct").string(), *s.keys.context));
  ASSERT_EQ(logits.size(), s.images.size());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    ASSERT_EQ(logits[i].width, s.images[i].width);
    ASSERT_EQ(logits[i].height, s.images[i].height);
    for (std::size_t k = 0; k < logits[i].pixels.size(); ++k)
      ASSERT_NEAR(logits[i].pixels[k], s.images[i].pixels[k], 1e-6) << "image " << i;
  }
}

TEST(BatchRecord, MismatchedOrTamperedResultsAreRefused) {
  const Submission s;
  const EncryptedBatch good = identity_result(s.batch);
  ASSERT_NO_THROW(s.record.check_result(s.keys, good));

  EncryptedBatch other_id = good;
  other_id.id[0] ^= 1;
  expect_refused(s.record, s.keys, other_id, "another batch id");

  EncryptedBatch high_level = good;
  high_level.ciphertexts = s.batch.ciphertexts;  // the client's own input, sent back as a "result"
  expect_refused(s.record, s.keys, high_level, "another level");

  EncryptedBatch rescaled = good;
  rescaled.ciphertexts[0].set_scale(0x1p30);
  expect_refused(s.record, s.keys, rescaled, "another scale");

  EncryptedBatch fewer = good;
  fewer.ciphertexts.pop_back();
  expect_refused(s.record, s.keys, fewer, "fewer ciphertexts");
  EncryptedBatch more = good;
  more.ciphertexts.push_back(more.ciphertexts.front());
  expect_refused(s.record, s.keys, more, "more ciphertexts");

  EncryptedBatch resized = good;
  resized.images[2].height += 1;
  expect_refused(s.record, s.keys, resized, "another image size");
  EncryptedBatch dropped = good;
  dropped.images.pop_back();
  expect_refused(s.record, s.keys, dropped, "an image less");

  EncryptedBatch restrided = good;
  restrided.tile_stride = kTile;
  expect_refused(s.record, s.keys, restrided, "another stride");

  ClientKeys other_keys = identity_keys();  // another prime chain: another parameter fingerprint
  other_keys.context = ckks::Context::create(ckks::Parameters::create(ckks::ParameterSpec{13, {60, 40, 41}, {60}}));
  expect_refused(s.record, other_keys, good, "other parameters");

  const fs::path dir = fresh_dir("unknown");
  EXPECT_THROW((void)load_batch_record(dir.string(), other_id.id), ResultMismatch);
}

TEST(BatchRecord, CorruptedRecordsAreRefused) {
  const Submission s;
  const fs::path dir = fresh_dir("corrupt");
  save_batch_record(dir.string(), s.record);
  const std::string path = batch_record_path(dir.string(), s.batch.id);
  EXPECT_THROW(save_batch_record(dir.string(), s.record), std::runtime_error) << "records are never overwritten";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const std::string field = "\"ciphertexts\": " + std::to_string(s.record.ciphertext_count);
  ASSERT_NE(text.find(field), std::string::npos) << text;
  for (const std::string replacement : {"\"ciphertexts\": 7.8e103", "\"ciphertexts\": 1000", "\"ciphertexts\": -1"}) {
    std::string bad = text;
    bad.replace(bad.find(field), field.size(), replacement);
    std::ofstream(path, std::ios::trunc) << bad;
    EXPECT_THROW((void)load_batch_record(dir.string(), s.batch.id), std::runtime_error) << replacement;
  }
}

// A server (or a man in the middle) used to choose output paths: an image named "../escaped_by_server" in the
// result was written outside -o. Results carry no names now, and names come from the client's record, reduced to
// safe file-name stems.
TEST(BatchRecord, OutputNamesComeFromTheClientAndStayInsideTheOutputFolder) {
  const Submission s;
  EncryptedBatch result = identity_result(s.batch);
  result.images[0].name = "../escaped_by_server";
  const fs::path dir = fresh_dir("names");
  save_batch((dir / "result.ct").string(), *s.keys.context, result);
  const EncryptedBatch received = load_batch((dir / "result.ct").string(), *s.keys.context);
  EXPECT_TRUE(received.images[0].name.empty());
  EXPECT_EQ(s.record.output_stems(), (std::vector<std::string>{"first", "second", "third"}));

  BatchRecord hostile = s.record;
  hostile.images[0].name = "../escaped_by_server";
  hostile.images[1].name = std::string("a\nb/..\x01") + "/c";
  hostile.images[2].name = "..";
  const auto stems = hostile.output_stems();
  const fs::path out = dir / "out";
  for (const auto& stem : stems) {
    EXPECT_FALSE(stem.empty());
    EXPECT_NE(stem.front(), '.') << stem;
    for (char c : stem)
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || std::string("._+-").find(c) != std::string::npos)
          << stem;
    EXPECT_EQ((out / (stem + "_mask.png")).lexically_normal().parent_path(), out.lexically_normal()) << stem;
  }
  EXPECT_EQ(stems[0], "_escaped_by_server");
  EXPECT_EQ(stems[2], "image2");

  BatchRecord twins = s.record;
  for (auto& img : twins.images) img.name = "scan";
  const auto unique = twins.output_stems();
  EXPECT_EQ(std::set<std::string>(unique.begin(), unique.end()).size(), unique.size());
}

// Flooding moves each decrypted value by a sum of N independent terms bounded by 2^B / scale: beyond
// 8 sqrt(N) 2^B / scale with probability below 2 e^-64 (Hoeffding), by about sqrt(N/6) 2^B / scale (rms).
TEST(Flooding, MovesDecryptionsByItsBoundOnly) {
  const Submission s;
  const EncryptedBatch result = identity_result(s.batch);
  EncryptedBatch flooded = result;
  constexpr int kBits = 12;
  flood_noise(*s.keys.context, flooded, kBits);
  EXPECT_NO_THROW(s.record.check_result(s.keys, flooded));
  const auto clean = decrypt_logits(s.keys, s.record, result);
  const auto noisy = decrypt_logits(s.keys, s.record, flooded);
  const double n = 2.0 * static_cast<double>(s.keys.context->slot_count());
  const double scale = result.ciphertexts[0].scale();
  double moved = 0;
  for (std::size_t i = 0; i < clean.size(); ++i)
    for (std::size_t k = 0; k < clean[i].pixels.size(); ++k)
      moved = std::max(moved, std::abs(noisy[i].pixels[k] - clean[i].pixels[k]));
  EXPECT_LT(moved, 8 * std::sqrt(n) * std::ldexp(1.0, kBits) / scale);
  EXPECT_GT(moved, std::sqrt(n / 6) * std::ldexp(1.0, kBits) / scale / 4) << "no noise was added";
  EXPECT_THROW(flood_noise(*s.keys.context, flooded, 0), std::invalid_argument);
  EXPECT_THROW(flood_noise(*s.keys.context, flooded, kMaxFloodBits + 1), std::invalid_argument);
  // Noise that does not fit q_0 would wrap the result around.
  const int q0_bits = std::bit_width(s.keys.context->prime(0));
  EXPECT_NO_THROW(flood_noise(*s.keys.context, flooded, q0_bits - 2));
  EXPECT_THROW(flood_noise(*s.keys.context, flooded, q0_bits - 1), std::invalid_argument);
}

}  // namespace
}  // namespace cryptounet::henn
