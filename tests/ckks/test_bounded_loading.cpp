// Loading is bounded by the input: a header that declares more data than the input holds is refused before anything
// is allocated for it. Every case is a valid header (right magic, version, type, fingerprint, sizes that match the
// context) followed by too little data; the global operator new is observed (heap_probe.h) and the largest block
// requested during the load must stay within twice the input plus a few kilobytes of bookkeeping.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "heap_probe.h"

using namespace cryptounet::ckks;

namespace {

enum Type : uint16_t { kSecretKey = 2, kPublicKey = 3, kRelinKey = 4, kGaloisKeys = 5, kPlaintext = 6,
                       kCiphertext = 7, kCiphertexts = 8 };

template <class T>
void append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// The object header of the format (serialization.h): magic, version, type, parameter fingerprint.
std::string header(const Context& ctx, Type type) {
  std::string out = "CUCK";
  append<uint16_t>(out, kSerializationVersion);
  append<uint16_t>(out, type);
  const auto& fingerprint = ctx.parameters().fingerprint();
  out.append(reinterpret_cast<const char*>(fingerprint.data()), fingerprint.size());
  return out;
}

// Level, digit count, prime count, ring degree and seed of a key-switching key at the top level.
std::string top_level_switch_key_fields(const Context& ctx) {
  std::string out;
  append<uint32_t>(out, static_cast<uint32_t>(ctx.max_level()));
  append<uint32_t>(out, static_cast<uint32_t>(ctx.digit_count(ctx.max_level())));
  append<uint32_t>(out, static_cast<uint32_t>(ctx.max_level() + 1 + ctx.special_prime_count()));
  append<uint32_t>(out, static_cast<uint32_t>(ctx.poly_degree()));
  out.append(32, '\x5a');  // seed
  return out;
}

// Level, scale, ring degree, seed flag (and seed) of a ciphertext body at the top level.
std::string top_level_ciphertext_fields(const Context& ctx, bool seeded) {
  std::string out;
  append<int32_t>(out, ctx.max_level());
  append<double>(out, 0x1p40);
  append<uint32_t>(out, static_cast<uint32_t>(ctx.poly_degree()));
  append<uint8_t>(out, seeded);
  if (seeded) out.append(32, '\x5a');
  return out;
}

// The crafted inputs of one context, each with the loader that must refuse it.
std::vector<std::pair<std::string, std::function<void(std::istream&)>>> short_inputs(const ContextPtr& ctx) {
  const Context& c = *ctx;
  std::string galois = header(c, kGaloisKeys);
  append<uint32_t>(galois, 1);
  append<uint64_t>(galois, c.galois_element(1));
  galois += top_level_switch_key_fields(c);
  std::string many_galois = header(c, kGaloisKeys);
  append<uint32_t>(many_galois, static_cast<uint32_t>(c.poly_degree() - 1));
  std::string public_key = header(c, kPublicKey);
  append<uint32_t>(public_key, static_cast<uint32_t>(c.max_level() + 1));
  append<uint32_t>(public_key, static_cast<uint32_t>(c.poly_degree()));
  public_key.append(32, '\x5a');
  std::string plaintext = header(c, kPlaintext);
  append<int32_t>(plaintext, c.max_level());
  append<double>(plaintext, 0x1p40);
  append<uint32_t>(plaintext, static_cast<uint32_t>(c.poly_degree()));
  std::string ciphertexts = header(c, kCiphertexts);
  append<uint64_t>(ciphertexts, uint64_t{1} << 24);
  ciphertexts += top_level_ciphertext_fields(c, false);
  std::string secret = header(c, kSecretKey);
  append<uint32_t>(secret, static_cast<uint32_t>(c.poly_degree()));
  return {
      {header(c, kRelinKey) + top_level_switch_key_fields(c), [&c](std::istream& in) { load_relin_key(in, c); }},
      {galois, [&c](std::istream& in) { load_galois_keys(in, c); }},
      {many_galois, [&c](std::istream& in) { load_galois_keys(in, c); }},
      {public_key, [&c](std::istream& in) { load_public_key(in, c); }},
      {plaintext, [&c](std::istream& in) { load_plaintext(in, c); }},
      {header(c, kCiphertext) + top_level_ciphertext_fields(c, false),
       [&c](std::istream& in) { load_ciphertext(in, c); }},
      {header(c, kCiphertext) + top_level_ciphertext_fields(c, true),
       [&c](std::istream& in) { load_ciphertext(in, c); }},
      {ciphertexts, [&c](std::istream& in) { load_ciphertexts(in, c); }},
      {secret, [&c](std::istream& in) { load_secret_key(in, c); }},
  };
}

void expect_refused_without_allocating(const ContextPtr& ctx) {
  const auto cases = short_inputs(ctx);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [bytes, load] = cases[i];
    std::istringstream in(bytes);
    heap_probe::largest = 0;
    heap_probe::track_largest = true;
    bool refused = false;
    try {
      load(in);
    } catch (const std::runtime_error&) {
      refused = true;
    }
    heap_probe::track_largest = false;
    EXPECT_TRUE(refused) << "case " << i;
    EXPECT_LE(heap_probe::largest.load(), 2 * bytes.size() + 4096) << "case " << i << ": " << bytes.size() << " bytes";
  }
}

}  // namespace

TEST(BoundedLoading, ShortInputIsRefusedBeforeAllocatingForTheSmallContext) {
  expect_refused_without_allocating(Context::create(Parameters::create({13, {50, 40, 40}, {50}})));
}

// N = 2^16, 7 q primes and one special prime: a top-level key-switching key would be 7 digits x 8 limbs x 512 KiB.
TEST(BoundedLoading, ShortInputIsRefusedBeforeAllocatingForABigContext) {
  expect_refused_without_allocating(Context::create(Parameters::create({16, {60, 40, 40, 40, 40, 40, 40}, {60}})));
}

TEST(BoundedLoading, CompleteObjectsStillLoad) {
  const auto ctx = Context::create(Parameters::create({13, {50, 40, 40}, {50}}));
  KeyGenerator keygen(ctx);
  const std::vector<int> steps = {1};
  const GaloisKeys keys = keygen.create_galois_keys(steps);
  std::stringstream s;
  save(s, *ctx, keys);
  EXPECT_EQ(load_galois_keys(s, *ctx).keys.size(), 1u);
}

// A stream that cannot tell how much it holds (a pipe) cannot be bounded, so it is refused.
TEST(BoundedLoading, UnseekableStreamIsRefused) {
  struct Unseekable : std::streambuf {
    explicit Unseekable(std::string& bytes) { setg(bytes.data(), bytes.data(), bytes.data() + bytes.size()); }
  };
  const auto ctx = Context::create(Parameters::create({13, {50, 40, 40}, {50}}));
  std::ostringstream out;
  save(out, ctx->parameters());
  std::string bytes = out.str();
  Unseekable buffer(bytes);
  std::istream in(&buffer);
  EXPECT_THROW(load_parameters(in), std::runtime_error);
}

TEST(BoundedLoading, TrailingBytesAreRefusedWhereAnInputIsOneObject) {
  const auto ctx = Context::create(Parameters::create({13, {50, 40, 40}, {50}}));
  std::stringstream s;
  save(s, ctx->parameters());
  const std::string one = s.str();
  std::istringstream exact(one), longer(one + '\0');
  load_parameters(exact);
  EXPECT_NO_THROW(expect_end_of_input(exact));
  load_parameters(longer);
  EXPECT_THROW(expect_end_of_input(longer), std::runtime_error);
}
