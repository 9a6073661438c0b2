// Serialization: round trips of every object, half-size seeded objects, and rejection of corrupted, truncated and
// mismatched-parameter input.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "test_util.h"

using namespace cryptounet::ckks;
using namespace cryptounet::ckks::test;

namespace {

struct Serialization : ::testing::Test {
  static void SetUpTestSuite() {
    ctx = Context::create(Parameters::create({13, {50, 40, 40}, {50}}));
    keygen = std::make_unique<KeyGenerator>(ctx);
  }
  static void TearDownTestSuite() { keygen.reset(); }
  template <class T>
  static std::string bytes(const T& object) {
    std::ostringstream out;
    save(out, *ctx, object);
    return out.str();
  }
  Encoder encoder{ctx};
  static inline ContextPtr ctx;
  static inline std::unique_ptr<KeyGenerator> keygen;
};

}  // namespace

TEST_F(Serialization, ParametersRoundTrip) {
  std::stringstream s;
  save(s, ctx->parameters());
  const Parameters loaded = load_parameters(s);
  EXPECT_EQ(loaded.q(), ctx->parameters().q());
  EXPECT_EQ(loaded.p(), ctx->parameters().p());
  EXPECT_TRUE(loaded == ctx->parameters());
}

TEST_F(Serialization, KeysRoundTripAndSeededHalvesAreHalfSize) {
  const PublicKey pk = keygen->create_public_key();
  const RelinKey rk = keygen->create_relin_key();
  const std::vector<int> steps = {1, -2};
  const GaloisKeys gk = keygen->create_galois_keys(steps, true);
  std::istringstream s1(bytes(keygen->secret_key())), s2(bytes(pk)), s3(bytes(rk)), s4(bytes(gk));
  EXPECT_TRUE(load_secret_key(s1, *ctx).data == keygen->secret_key().data);
  EXPECT_EQ(bytes(keygen->secret_key()).size(), 44 + ctx->poly_degree());  // one byte per ternary coefficient
  const PublicKey pk2 = load_public_key(s2, *ctx);
  EXPECT_EQ(pk2.a, pk.a);
  EXPECT_EQ(pk2.b, pk.b);
  const RelinKey rk2 = load_relin_key(s3, *ctx);
  EXPECT_EQ(rk2.a, rk.a);
  EXPECT_EQ(rk2.b, rk.b);
  const GaloisKeys gk2 = load_galois_keys(s4, *ctx);
  ASSERT_EQ(gk2.keys.size(), gk.keys.size());
  for (const auto& [g, key] : gk.keys) EXPECT_EQ(gk2.keys.at(g).a, key.a);
  // A key for levels <= 1 only.
  const RelinKey low = keygen->create_relin_key(1);
  std::istringstream s5(bytes(low));
  const RelinKey low2 = load_relin_key(s5, *ctx);
  EXPECT_EQ(low2.level, 1);
  EXPECT_EQ(low2.b, low.b);
  EXPECT_EQ(low2.a, low.a);
  // Only b is stored: about half the in-memory size.
  EXPECT_LT(bytes(rk).size(), rk.memory_bytes() / 2 + 1024);
}

// Galois keys generated at one level per step (a step used only deep in a computation needs no top primes)
// round-trip with their levels, and serialized_size counts exactly what save writes.
TEST_F(Serialization, GaloisKeysAtTheirOwnLevelsRoundTripAndAreCountedExactly) {
  const std::vector<int> steps = {1, -2}, levels = {ctx->max_level(), 0};
  const GaloisKeys gk = keygen->create_galois_keys(steps, levels);
  EXPECT_EQ(gk.keys.at(ctx->galois_element(1)).level, ctx->max_level());
  EXPECT_EQ(gk.keys.at(ctx->galois_element(-2)).level, 0);
  EXPECT_LT(gk.memory_bytes(), keygen->create_galois_keys(steps).memory_bytes());
  std::istringstream in(bytes(gk));
  const GaloisKeys loaded = load_galois_keys(in, *ctx);
  ASSERT_EQ(loaded.keys.size(), gk.keys.size());
  for (const auto& [g, key] : gk.keys) {
    EXPECT_EQ(loaded.keys.at(g).level, key.level);
    EXPECT_EQ(loaded.keys.at(g).b, key.b);
    EXPECT_EQ(loaded.keys.at(g).a, key.a);
  }
  EXPECT_EQ(serialized_size(*ctx, gk), bytes(gk).size());
  EXPECT_THROW(keygen->create_galois_keys(steps, std::vector<int>{0}), std::invalid_argument);
  EXPECT_THROW(keygen->create_galois_keys(steps, std::vector<int>{0, -1}), std::invalid_argument);
  EXPECT_THROW(keygen->create_galois_keys(steps, std::vector<int>{0, ctx->max_level() + 1}), std::invalid_argument);
}

TEST_F(Serialization, CiphertextsRoundTripAndStillDecrypt) {
  const auto v = random_real(ctx->slot_count(), 1);
  Encryptor sym(ctx, keygen->secret_key());
  Encryptor asym(ctx, keygen->create_public_key());
  Decryptor dec(ctx, keygen->secret_key());
  const Plaintext pt = encoder.encode(std::span<const double>(v), 2, 0x1.0p40);
  const Ciphertext fresh = sym.encrypt(pt), full = asym.encrypt(pt);
  ASSERT_TRUE(fresh.seed().has_value());
  EXPECT_LT(bytes(fresh).size(), bytes(full).size() / 2 + 128);  // seeded: half size
  for (const Ciphertext* ct : {&fresh, &full}) {
    std::istringstream in(bytes(*ct));
    const Ciphertext loaded = load_ciphertext(in, *ctx);
    EXPECT_EQ(loaded.data(), ct->data());
    EXPECT_EQ(loaded.scale(), ct->scale());
    EXPECT_LE(max_error(encoder.decode(dec.decrypt(loaded)), v), 0x1.0p-20);
  }
  std::istringstream in_pt(bytes(pt));
  EXPECT_EQ(load_plaintext(in_pt, *ctx).data(), pt.data());
  const std::vector<Ciphertext> many = {fresh, full, Evaluator(ctx).rescale(full)};
  std::istringstream in_many(bytes(many));
  const auto loaded = load_ciphertexts(in_many, *ctx);
  ASSERT_EQ(loaded.size(), 3u);
  EXPECT_EQ(loaded[2].level(), 1);
  EXPECT_EQ(loaded[2].data(), many[2].data());
}

TEST_F(Serialization, RejectsCorruptedTruncatedAndMismatchedInput) {
  const auto v = random_real(ctx->slot_count(), 2);
  Encryptor asym(ctx, keygen->create_public_key());
  const std::string good = bytes(asym.encrypt(encoder.encode(std::span<const double>(v), 2, 0x1.0p40)));
  auto rejects = [&](const std::string& data, const char* why) {
    std::istringstream in(data);
    EXPECT_THROW(load_ciphertext(in, *ctx), std::runtime_error) << why;
  };
  for (size_t cut : {size_t{0}, size_t{3}, size_t{20}, size_t{41}, size_t{60}, good.size() / 2, good.size() - 1})
    rejects(good.substr(0, cut), "truncated");
  std::string bad = good;
  bad[0] = 'X';
  rejects(bad, "magic");
  bad = good;
  bad[4] = 9;
  rejects(bad, "version");
  bad = good;
  bad[6] = 3;
  rejects(bad, "type");
  bad = good;
  bad[10] ^= 1;
  rejects(bad, "fingerprint");
  bad = good;
  bad[40] = 100;  // level (int32 right after the 40-byte header)
  rejects(bad, "level");
  bad = good;
  std::memset(&bad[good.size() - 8], 0xff, 8);  // last coefficient >= q
  rejects(bad, "range");
  // Parameters of another context.
  const auto other = Context::create(Parameters::create({13, {50, 40, 40}, {49}}));
  std::istringstream in(good);
  EXPECT_THROW(load_ciphertext(in, *other), std::runtime_error);
  std::istringstream in_key(bytes(keygen->secret_key()));
  EXPECT_THROW(load_secret_key(in_key, *other), std::runtime_error);
  std::istringstream in_wrong_type(bytes(keygen->secret_key()));
  EXPECT_THROW(load_ciphertext(in_wrong_type, *ctx), std::runtime_error);
  // A secret key with a coefficient outside {-1, 0, 1}.
  std::string sk = bytes(keygen->secret_key());
  sk[44 + 5] = 2;  // header (40 bytes), ring degree (4 bytes), then the coefficients
  std::istringstream in_bad_sk(sk);
  EXPECT_THROW(load_secret_key(in_bad_sk, *ctx), std::runtime_error);
  // A Galois-key file truncated in the middle of a key.
  const std::vector<int> steps = {1};
  const std::string gk = bytes(keygen->create_galois_keys(steps));
  std::istringstream in_gk(gk.substr(0, gk.size() - 100));
  EXPECT_THROW(load_galois_keys(in_gk, *ctx), std::runtime_error);
}

namespace {

// A fresh, empty folder for one test's files.
std::filesystem::path fresh_folder(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("cryptounet_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

}  // namespace

TEST_F(Serialization, SecretKeyFileIsOwnerOnlyAndNeverSilentlyOverwritten) {
  const auto dir = fresh_folder("sk_file");
  const auto path = dir / "secret.key";
  const mode_t old_umask = ::umask(0);  // the file must be 0600 whatever the umask
  save_secret_key(path.string(), *ctx, keygen->secret_key());
  ::umask(old_umask);
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(std::filesystem::file_size(path), secret_key_bytes(*ctx));
  EXPECT_TRUE(load_secret_key(path.string(), *ctx).data == keygen->secret_key().data);

  // An existing key is kept unless replacing is asked for.
  const KeyGenerator other(ctx);
  EXPECT_THROW(save_secret_key(path.string(), *ctx, other.secret_key()), std::runtime_error);
  EXPECT_TRUE(load_secret_key(path.string(), *ctx).data == keygen->secret_key().data);
  ::chmod(path.c_str(), 0644);
  save_secret_key(path.string(), *ctx, other.secret_key(), IfExists::kReplace);
  EXPECT_TRUE(load_secret_key(path.string(), *ctx).data == other.secret_key().data);
  EXPECT_EQ(mode_of(path), 0600u);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(dir);
}

TEST_F(Serialization, SecretKeyIsNeverWrittenThroughASymbolicLink) {
  const auto dir = fresh_folder("sk_link");
  const auto victim = dir / "victim";
  std::ofstream(victim) << "not yours";
  const auto link = dir / "secret.key";
  std::filesystem::create_symlink(victim, link);
  for (const IfExists existing : {IfExists::kRefuse, IfExists::kReplace})
    EXPECT_THROW(save_secret_key(link.string(), *ctx, keygen->secret_key(), existing), std::runtime_error);
  EXPECT_EQ(std::filesystem::file_size(victim), 9u);
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  // A dangling link would create its target: refused as well.
  const auto dangling = dir / "dangling.key";
  std::filesystem::create_symlink(dir / "created_through_link", dangling);
  EXPECT_THROW(save_secret_key(dangling.string(), *ctx, keygen->secret_key()), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "created_through_link"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 3);
  std::filesystem::remove_all(dir);
}

TEST_F(Serialization, SecretKeyFileMustHoldExactlyOneKey) {
  const auto dir = fresh_folder("sk_size");
  const auto path = dir / "secret.key";
  save_secret_key(path.string(), *ctx, keygen->secret_key());
  std::ofstream(path, std::ios::app | std::ios::binary) << '\0';
  EXPECT_THROW(load_secret_key(path.string(), *ctx), std::runtime_error);
  std::filesystem::resize_file(path, secret_key_bytes(*ctx) - 1);
  EXPECT_THROW(load_secret_key(path.string(), *ctx), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST_F(Serialization, RandomCorruptionsAreRejectedOrHarmless) {
  // Any byte flip either fails with std::runtime_error or (inside coefficient data, value still < q) loads a
  // well-formed object; it never crashes or loads an object of another shape.
  const auto v = random_real(ctx->slot_count(), 3);
  Encryptor sym(ctx, keygen->secret_key());
  const Ciphertext ct = sym.encrypt(encoder.encode(std::span<const double>(v), 1, 0x1.0p40));
  const std::vector<Ciphertext> cts = {ct, ct};
  const std::string good = bytes(cts);
  std::mt19937_64 rng(17);
  int rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bad = good;
    const size_t at = trial < 100 ? rng() % 128 : rng() % bad.size();  // headers are the interesting part
    bad[at] = static_cast<char>(bad[at] ^ (1 + rng() % 255));
    std::istringstream in(bad);
    try {
      const auto loaded = load_ciphertexts(in, *ctx);
      ASSERT_EQ(loaded.size(), 2u);
      for (const auto& c : loaded) ASSERT_EQ(c.data().size(), 2 * c.limb_count() * ctx->poly_degree());
    } catch (const std::runtime_error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 50);
  const std::string params = [] {
    std::ostringstream out;
    save(out, ctx->parameters());
    return out.str();
  }();
  for (size_t cut = 0; cut < params.size(); ++cut) {
    std::istringstream in(params.substr(0, cut));
    EXPECT_THROW(load_parameters(in), std::runtime_error) << cut;
  }
}
