// Key files as a server and a client read them: an evaluation-key file is exactly the plan, the parameters, the
// relinearization key and the plan's Galois keys, each at the level the plan gives it, bounded by its size before
// any context is built; a client key folder is never silently replaced.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "henn/key_bundle.h"

namespace cryptounet::henn {
namespace {

namespace fs = std::filesystem;

fs::path fresh_folder(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("cryptounet_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

InferencePlan small_plan(const ckks::Context& ctx) {
  InferencePlan plan;
  plan.spec = ctx.parameters().spec();
  plan.layout = Layout::create(16, 16, static_cast<int>(ctx.slot_count()), 0);
  plan.levels = ctx.max_level();
  plan.rotation_steps = {1, -1};
  plan.rotation_levels = {ctx.max_level(), ctx.max_level()};
  plan.relin_level = ctx.max_level();
  plan.input_scale = 0x1p30;
  return plan;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_all(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

struct KeyFiles : ::testing::Test {
  static void SetUpTestSuite() {
    context = ckks::Context::create(ckks::Parameters::create({13, {50, 40, 40}, {50}}));
    keygen = std::make_unique<ckks::KeyGenerator>(context);
  }
  static void TearDownTestSuite() { keygen.reset(); }
  // An evaluation-key file with these keys, under `plan` (default: small_plan, every key at the top level).
  static std::string eval_file(const ckks::RelinKey& relin, const ckks::GaloisKeys& galois,
                               std::optional<InferencePlan> plan = std::nullopt) {
    const auto path = fs::temp_directory_path() / ("cryptounet_eval_" + std::to_string(::getpid()));
    save_evaluation_keys(path.string(), EvaluationKeys{plan ? *plan : small_plan(*context), context, relin, galois});
    std::string bytes = read_all(path);
    fs::remove(path);
    return bytes;
  }
  static bool loads(const std::string& bytes, std::string* error = nullptr) {
    const auto path = fs::temp_directory_path() / ("cryptounet_eval_" + std::to_string(::getpid()));
    write_all(path, bytes);
    bool ok = true;
    try {
      (void)load_evaluation_keys(path.string());
    } catch (const std::runtime_error& e) {
      ok = false;
      if (error) *error = e.what();
    }
    fs::remove(path);
    return ok;
  }
  static inline ckks::ContextPtr context;
  static inline std::unique_ptr<ckks::KeyGenerator> keygen;
};

TEST_F(KeyFiles, EvaluationKeysWithAnythingAppendedAreRefused) {
  const std::vector<int> steps = {1, -1};
  const std::string good = eval_file(keygen->create_relin_key(), keygen->create_galois_keys(steps));
  ASSERT_TRUE(loads(good));
  std::ostringstream secret;
  ckks::save(secret, *context, keygen->secret_key());
  std::string error;
  EXPECT_FALSE(loads(good + secret.str(), &error));
  EXPECT_NE(error.find("trailing"), std::string::npos) << error;
  EXPECT_FALSE(loads(good + '\0'));
  EXPECT_FALSE(loads(good.substr(0, good.size() - 1)));
}

TEST_F(KeyFiles, EvaluationKeysMustBeThePlansKeysAtTheTopLevel) {
  const std::vector<int> one_step = {1}, steps = {1, -1}, other_steps = {1, 2};
  EXPECT_FALSE(loads(eval_file(keygen->create_relin_key(), keygen->create_galois_keys(one_step))));
  EXPECT_FALSE(loads(eval_file(keygen->create_relin_key(), keygen->create_galois_keys(other_steps))));
  EXPECT_FALSE(loads(eval_file(keygen->create_relin_key(1), keygen->create_galois_keys(steps))));
  EXPECT_FALSE(loads(eval_file(keygen->create_relin_key(), keygen->create_galois_keys(steps, false, 1))));
}

// Keys truncated to the levels the plan uses them at round-trip with their levels and sizes; a key serving more or
// fewer levels than its plan gives it is refused, naming the key and both levels.
TEST_F(KeyFiles, TruncatedKeysRoundTripAndKeysAtOtherLevelsAreRefused) {
  InferencePlan plan = small_plan(*context);  // levels 0..2
  plan.rotation_levels = {2, 0};              // step 1 from the top, step -1 only at level 0
  plan.relin_level = 1;
  const std::vector<int> steps = {1, -1};
  const auto galois = keygen->create_galois_keys(steps, plan.rotation_levels);
  const auto relin = keygen->create_relin_key(1);
  const std::string good = eval_file(relin, galois, plan);
  const auto path = fs::temp_directory_path() / ("cryptounet_truncated_" + std::to_string(::getpid()));
  write_all(path, good);
  const EvaluationKeys loaded = load_evaluation_keys(path.string());
  fs::remove(path);
  EXPECT_EQ(loaded.plan.rotation_levels, plan.rotation_levels);
  EXPECT_EQ(loaded.plan.relin_level, 1);
  EXPECT_EQ(loaded.relin.level, 1);
  EXPECT_EQ(loaded.galois.keys.at(context->galois_element(1)).level, 2);
  EXPECT_EQ(loaded.galois.keys.at(context->galois_element(-1)).level, 0);
  EXPECT_LT(loaded.memory_bytes(), keygen->create_relin_key().memory_bytes() * 3);  // 3 top-level keys would be more
  // Same bytes as saved: the truncated keys are what is stored.
  EXPECT_EQ(good.size(), eval_file(relin, galois, plan).size());

  std::string error;
  const std::vector<int> too_high = {2, 1}, swapped = {0, 2}, too_low = {1, 0};
  EXPECT_FALSE(loads(eval_file(relin, keygen->create_galois_keys(steps, too_high), plan), &error));
  EXPECT_NE(error.find("rotation step -1 serves levels up to 1, the plan gives it 0"), std::string::npos) << error;
  EXPECT_FALSE(loads(eval_file(relin, keygen->create_galois_keys(steps, swapped), plan), &error));
  EXPECT_NE(error.find("rotation step -1 serves levels up to 2, the plan gives it 0"), std::string::npos) << error;
  EXPECT_FALSE(loads(eval_file(keygen->create_relin_key(2), galois, plan), &error));
  EXPECT_NE(error.find("relinearization key serves levels up to 2, the plan gives it 1"), std::string::npos) << error;
  // Keys short of the plan's levels are refused by the file's size, before anything is built.
  EXPECT_FALSE(loads(eval_file(relin, keygen->create_galois_keys(steps, too_low), plan), &error));
  EXPECT_NE(error.find("the plan needs at least"), std::string::npos) << error;
  EXPECT_FALSE(loads(eval_file(keygen->create_relin_key(0), galois, plan), &error));
  EXPECT_NE(error.find("the plan needs at least"), std::string::npos) << error;
}

// A plan whose key levels exceed its own levels is a corrupted file.
TEST_F(KeyFiles, PlanWithKeyLevelsAboveItsLevelsIsACorruptedFile) {
  InferencePlan plan = small_plan(*context);
  plan.rotation_levels = {plan.levels + 1, 0};
  std::ostringstream out;
  save_plan(out, plan, context->parameters());
  std::istringstream in(out.str());
  EXPECT_THROW(load_plan(in), std::runtime_error);
}

// The attack of a few hundred bytes: a plan header for N = 2^16 and 58 primes (a context of ~180 MiB and seconds of
// work) followed by the start of a key. It is refused from the file size alone, before the context is built.
TEST_F(KeyFiles, ShortEvaluationKeyFileIsRefusedBeforeItsContextIsBuilt) {
  InferencePlan plan;
  plan.spec = {16, std::vector<int>(57, 30), {30}};
  plan.layout = Layout::create(128, 128, 1 << 15, 0);
  plan.levels = 56;
  plan.rotation_steps = {1};
  plan.rotation_levels = {56};
  plan.relin_level = 56;
  plan.input_scale = 0x1p22;
  std::ostringstream out;
  out.write("CUEV\x02\x00", 6);
  save_plan(out, plan, ckks::Parameters::create(plan.spec));
  const std::string bytes = out.str() + std::string(64, '\0');
  EXPECT_LT(bytes.size(), 1024u);
  const auto path = fs::temp_directory_path() / ("cryptounet_short_eval_" + std::to_string(::getpid()));
  write_all(path, bytes);
  EXPECT_EQ(load_evaluation_key_plan(path.string()).spec.q_bits.size(), 57u);  // the header alone reads fine
  try {
    (void)load_evaluation_keys(path.string());
    ADD_FAILURE() << "a short evaluation-key file was accepted";
  } catch (const std::runtime_error& e) {
    // This message comes only from the size check that precedes building the context.
    EXPECT_NE(std::string(e.what()).find("the plan needs at least"), std::string::npos) << e.what();
  }
  fs::remove(path);
}

// A corrupted header is a std::runtime_error like every other malformed file, also where the layout is impossible.
TEST_F(KeyFiles, ImpossibleLayoutInThePlanIsACorruptedFile) {
  InferencePlan plan = small_plan(*context);
  plan.layout.height = plan.layout.width = 128;  // 16384 slots per tile, the ciphertext has 4096
  std::ostringstream out;
  save_plan(out, plan, context->parameters());
  std::istringstream in(out.str());
  EXPECT_THROW(load_plan(in), std::runtime_error);
}

TEST_F(KeyFiles, ClientKeysAreNotReplacedUnlessAskedAndPublicKeyFileIsExact) {
  const auto dir = fresh_folder("client_keys");
  const ClientKeys keys{small_plan(*context), context, keygen->secret_key(), keygen->create_public_key()};
  save_client_keys(dir.string(), keys);
  EXPECT_THROW(save_client_keys(dir.string(), keys), std::runtime_error);
  save_client_keys(dir.string(), keys, ckks::IfExists::kReplace);
  EXPECT_TRUE(load_client_keys(dir.string()).secret.data == keygen->secret_key().data);
  std::ofstream(dir / "public.bin", std::ios::app | std::ios::binary) << 'x';
  EXPECT_THROW(load_client_keys(dir.string()), std::runtime_error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cryptounet::henn
