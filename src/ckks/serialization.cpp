#include "ckks/serialization.h"

#include <cmath>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>

#include "ckks/random.h"

namespace cryptounet::ckks {

namespace {

constexpr char kMagic[4] = {'C', 'U', 'C', 'K'};
constexpr size_t kHeaderBytes = 4 + 2 + 2 + 32;  // magic, version, type, fingerprint
enum class ObjectType : uint16_t {
  kParameters = 1,
  kSecretKey = 2,
  kPublicKey = 3,
  kRelinKey = 4,
  kGaloisKeys = 5,
  kPlaintext = 6,
  kCiphertext = 7,
  kCiphertexts = 8,
};
constexpr uint64_t kMaxCiphertexts = uint64_t{1} << 24;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("ckks deserialization: " + what); }

class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) {}
  template <class T>
  void put(const T& value) {
    out_.write(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void bytes(const void* data, size_t size) { out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size)); }
  void words(const uint64_t* data, size_t count) { bytes(data, count * sizeof(uint64_t)); }
  void header(ObjectType type, const std::array<uint8_t, 32>& fingerprint) {
    bytes(kMagic, 4);
    put(kSerializationVersion);
    put(static_cast<uint16_t>(type));
    bytes(fingerprint.data(), fingerprint.size());
  }
  void finish() {
    if (!out_) throw std::runtime_error("ckks serialization: write failed");
  }

 private:
  std::ostream& out_;
};

// Bytes from the current position to the end of the stream (seeks to the end and back).
uint64_t bytes_left(std::istream& in) {
  const auto here = in.tellg();
  if (here == std::streampos(-1)) fail("the input stream cannot report its size (a file or string stream is needed)");
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  in.seekg(here);
  if (!in || end == std::streampos(-1) || end < here) fail("cannot determine the size of the input");
  return static_cast<uint64_t>(end - here);
}

// Reads against a byte budget: the bytes the input still holds. Every size declared by a header is checked with
// `require` before anything is allocated for it, so a short input cannot make a loader allocate more than twice
// its own size (keys: the stored "b" parts plus the "a" parts expanded from their seeds).
class Reader {
 public:
  explicit Reader(std::istream& in) : in_(in), remaining_(bytes_left(in)) {}
  template <class T>
  T get() {
    T value;
    bytes(&value, sizeof(T));
    return value;
  }
  void bytes(void* data, size_t size) {
    if (size > remaining_) fail("truncated input");
    in_.read(static_cast<char*>(data), static_cast<std::streamsize>(size));
    if (static_cast<size_t>(in_.gcount()) != size) fail("truncated input");
    remaining_ -= size;
  }
  void require(uint64_t size, const std::string& what) const {
    if (size > remaining_)
      fail(what + " needs " + std::to_string(size) + " bytes, the input has " + std::to_string(remaining_) + " left");
  }
  std::array<uint8_t, 32> header(ObjectType expected) {
    char magic[4];
    bytes(magic, 4);
    if (std::memcmp(magic, kMagic, 4) != 0) fail("bad magic (not a cryptounet CKKS object)");
    const auto version = get<uint16_t>();
    if (version != kSerializationVersion)
      fail("unsupported format version " + std::to_string(version) + " (expected " +
           std::to_string(kSerializationVersion) + ")");
    const auto type = get<uint16_t>();
    if (type != static_cast<uint16_t>(expected))
      fail("object type " + std::to_string(type) + " where " + std::to_string(static_cast<uint16_t>(expected)) +
           " was expected");
    std::array<uint8_t, 32> fingerprint;
    bytes(fingerprint.data(), fingerprint.size());
    return fingerprint;
  }
  void header(ObjectType expected, const Context& ctx) {
    if (header(expected) != ctx.parameters().fingerprint()) fail("parameter fingerprint does not match the context");
  }
  void expect_u32(uint32_t expected, const char* what) {
    const auto value = get<uint32_t>();
    if (value != expected)
      fail(std::string(what) + " is " + std::to_string(value) + ", expected " + std::to_string(expected));
  }
  // count words, each limb of n checked against its prime.
  void residues(const Context& ctx, const std::vector<int>& primes, uint64_t* out) {
    const size_t n = ctx.poly_degree();
    bytes(out, primes.size() * n * sizeof(uint64_t));
    for (size_t l = 0; l < primes.size(); ++l) {
      const uint64_t q = ctx.prime(primes[l]);
      for (size_t k = 0; k < n; ++k) {
        if (out[l * n + k] >= q) fail("coefficient out of range (>= q_" + std::to_string(primes[l]) + ")");
      }
    }
  }

 private:
  std::istream& in_;
  uint64_t remaining_;
};

uint64_t limb_bytes(const Context& ctx) { return ctx.poly_degree() * sizeof(uint64_t); }

// Fixed fields of a key-switching key (level, digit count, prime count, ring degree, seed) and of a ciphertext body
// (level, scale, ring degree, seed flag).
constexpr uint64_t kSwitchKeyFieldBytes = 4 * 4 + 32;
constexpr uint64_t kCiphertextFieldBytes = 4 + 8 + 4 + 1;

// The smallest serialized key-switching key: one digit at level 0, over q_0 and the special primes.
uint64_t min_switch_key_bytes(const Context& ctx) { return switch_key_bytes(ctx.parameters(), 0); }

// The smallest serialized ciphertext body: level 0, seeded (one stored polynomial).
uint64_t min_ciphertext_body_bytes(const Context& ctx) { return kCiphertextFieldBytes + 32 + limb_bytes(ctx); }

int read_level(Reader& r, const Context& ctx) {
  const auto level = r.get<int32_t>();
  if (level < 0 || level > ctx.max_level())
    fail("level " + std::to_string(level) + " outside [0, " + std::to_string(ctx.max_level()) + "]");
  return level;
}

double read_scale(Reader& r) {
  const auto scale = r.get<double>();
  if (!std::isfinite(scale) || !(scale > 0)) fail("scale is not a positive finite number");
  return scale;
}

void write_switch_key(Writer& w, const Context& ctx, const KeySwitchKey& key) {
  w.put(static_cast<uint32_t>(key.level));
  w.put(static_cast<uint32_t>(key.digit_count));
  w.put(static_cast<uint32_t>(key.level + 1 + ctx.special_prime_count()));
  w.put(static_cast<uint32_t>(ctx.poly_degree()));
  w.bytes(key.seed.data(), key.seed.size());
  w.words(key.b.data(), key.b.size());
}

KeySwitchKey read_switch_key(Reader& r, const Context& ctx) {
  KeySwitchKey key;
  const auto level = r.get<uint32_t>();
  if (level > static_cast<uint32_t>(ctx.max_level())) fail("key-switching key level " + std::to_string(level) + " out of range");
  key.level = static_cast<int>(level);
  key.digit_count = static_cast<int>(r.get<uint32_t>());
  if (key.digit_count != ctx.digit_count(key.level)) fail("key-switching key has a wrong number of digits");
  r.expect_u32(static_cast<uint32_t>(key.level + 1 + ctx.special_prime_count()), "prime count");
  r.expect_u32(static_cast<uint32_t>(ctx.poly_degree()), "ring degree");
  const auto all = prime_range(ctx, key.level, true);
  const size_t digit_words = all.size() * ctx.poly_degree();
  r.require(key.seed.size() + static_cast<uint64_t>(key.digit_count) * digit_words * sizeof(uint64_t),
            "key-switching key at level " + std::to_string(key.level));
  r.bytes(key.seed.data(), key.seed.size());
  key.b.resize(key.digit_count * digit_words);
  key.a.resize(key.digit_count * digit_words);
  for (int j = 0; j < key.digit_count; ++j) {
    r.residues(ctx, all, key.b.data() + j * digit_words);
    sample_uniform(ctx, key.seed, static_cast<uint32_t>(j + 1), all, key.a.data() + j * digit_words);
  }
  return key;
}

void write_ciphertext_body(Writer& w, const Context& ctx, const Ciphertext& ct) {
  if (ct.poly_degree() != ctx.poly_degree() || ct.level() < 0) throw std::invalid_argument("save: empty ciphertext");
  w.put(static_cast<int32_t>(ct.level()));
  w.put(ct.scale());
  w.put(static_cast<uint32_t>(ct.poly_degree()));
  const bool seeded = ct.seed().has_value();
  w.put(static_cast<uint8_t>(seeded));
  const size_t words = ct.limb_count() * ct.poly_degree();
  if (seeded) {
    w.bytes(ct.seed()->data(), 32);
    w.words(ct.poly(0), words);
  } else {
    w.words(ct.poly(0), 2 * words);
  }
}

Ciphertext read_ciphertext_body(Reader& r, const Context& ctx) {
  const int level = read_level(r, ctx);
  const double scale = read_scale(r);
  r.expect_u32(static_cast<uint32_t>(ctx.poly_degree()), "ring degree");
  const auto seeded = r.get<uint8_t>();
  if (seeded > 1) fail("bad seed flag");
  const auto primes = prime_range(ctx, level, false);
  const uint64_t poly_bytes = primes.size() * limb_bytes(ctx);
  r.require(seeded ? 32 + poly_bytes : 2 * poly_bytes, "ciphertext at level " + std::to_string(level));
  Ciphertext ct(ctx.poly_degree(), level, scale, NoInit{});
  if (seeded) {
    Seed seed;
    r.bytes(seed.data(), seed.size());
    r.residues(ctx, primes, ct.poly(0));
    sample_uniform(ctx, seed, 0, primes, ct.poly(1));
    ct.set_seed(seed);
  } else {
    r.residues(ctx, primes, ct.poly(0));
    r.residues(ctx, primes, ct.poly(1));
  }
  return ct;
}

}  // namespace

void save(std::ostream& out, const Parameters& params) {
  Writer w(out);
  w.header(ObjectType::kParameters, params.fingerprint());
  w.put(static_cast<uint32_t>(params.log_n()));
  for (const auto* bits : {&params.spec().q_bits, &params.spec().p_bits}) {
    w.put(static_cast<uint32_t>(bits->size()));
    for (int b : *bits) w.put(static_cast<uint32_t>(b));
  }
  w.finish();
}

Parameters load_parameters(std::istream& in) {
  Reader r(in);
  const auto fingerprint = r.header(ObjectType::kParameters);
  ParameterSpec spec;
  spec.log_n = static_cast<int>(r.get<uint32_t>());
  for (auto* bits : {&spec.q_bits, &spec.p_bits}) {
    const auto count = r.get<uint32_t>();
    if (count == 0 || count > 256) fail("implausible prime count " + std::to_string(count));
    r.require(count * sizeof(uint32_t), "prime sizes");
    for (uint32_t i = 0; i < count; ++i) bits->push_back(static_cast<int>(r.get<uint32_t>()));
  }
  Parameters params = [&] {
    try {
      return Parameters::create(spec);  // re-validates security and sizes
    } catch (const std::invalid_argument& e) {
      fail(std::string("invalid parameters: ") + e.what());
    }
  }();
  if (params.fingerprint() != fingerprint) fail("parameter fingerprint does not match the parameters");
  return params;
}

// The secret key is stored as its N ternary coefficients (one byte each), recovered from the q_0 limb; loading
// checks every coefficient is in {-1, 0, 1} and recomputes the NTT form over all primes.
void save(std::ostream& out, const Context& ctx, const SecretKey& key) {
  const size_t n = ctx.poly_degree();
  if (key.data.size() != static_cast<size_t>(ctx.prime_count()) * n)
    throw std::invalid_argument("save: secret key does not match the parameters");
  SecretVector<uint64_t> coeffs(key.data.begin(), key.data.begin() + n);
  ntt_inverse(coeffs.data(), ctx.ntt(0));
  const uint64_t q0 = ctx.prime(0);
  SecretVector<int8_t> ternary(n);
  bool ternary_only = true;
  for (size_t k = 0; k < n; ++k) {
    // Centred without a branch on the coefficient: q0 - 1 -> -1, 0 and 1 unchanged.
    const uint64_t q_if_negative = q0 & -static_cast<uint64_t>(coeffs[k] > 1);
    const int64_t c = static_cast<int64_t>(coeffs[k]) - static_cast<int64_t>(q_if_negative);
    ternary_only &= static_cast<uint64_t>(c + 1) <= 2;
    ternary[k] = static_cast<int8_t>(c);
  }
  if (!ternary_only) throw std::invalid_argument("save: secret key is not ternary");
  Writer w(out);
  w.header(ObjectType::kSecretKey, ctx.parameters().fingerprint());
  w.put(static_cast<uint32_t>(n));
  w.bytes(ternary.data(), n);
  w.finish();
}

size_t secret_key_bytes(const Context& ctx) { return kHeaderBytes + sizeof(uint32_t) + ctx.poly_degree(); }

SecretKey load_secret_key(std::istream& in, const Context& ctx) {
  Reader r(in);
  r.header(ObjectType::kSecretKey, ctx);
  const size_t n = ctx.poly_degree();
  r.expect_u32(static_cast<uint32_t>(n), "ring degree");
  r.require(n, "secret key");
  SecretVector<int8_t> ternary(n);
  r.bytes(ternary.data(), n);
  for (int8_t c : ternary) {
    if (c < -1 || c > 1) fail("secret key coefficient outside {-1, 0, 1}");
  }
  SecretKey key;
  key.data.resize(static_cast<size_t>(ctx.prime_count()) * n);
  small_to_ntt(ctx, ternary, prime_range(ctx, ctx.max_level(), true), key.data.data());
  return key;
}

void save(std::ostream& out, const Context& ctx, const PublicKey& key) {
  Writer w(out);
  w.header(ObjectType::kPublicKey, ctx.parameters().fingerprint());
  w.put(static_cast<uint32_t>(ctx.max_level() + 1));
  w.put(static_cast<uint32_t>(ctx.poly_degree()));
  w.bytes(key.seed.data(), key.seed.size());
  w.words(key.b.data(), key.b.size());
  w.finish();
}

PublicKey load_public_key(std::istream& in, const Context& ctx) {
  Reader r(in);
  r.header(ObjectType::kPublicKey, ctx);
  r.expect_u32(static_cast<uint32_t>(ctx.max_level() + 1), "limb count");
  r.expect_u32(static_cast<uint32_t>(ctx.poly_degree()), "ring degree");
  PublicKey key;
  const auto primes = prime_range(ctx, ctx.max_level(), false);
  r.require(key.seed.size() + primes.size() * limb_bytes(ctx), "public key");
  r.bytes(key.seed.data(), key.seed.size());
  key.b.resize(primes.size() * ctx.poly_degree());
  key.a.resize(key.b.size());
  r.residues(ctx, primes, key.b.data());
  sample_uniform(ctx, key.seed, 0, primes, key.a.data());
  return key;
}

uint64_t switch_key_bytes(const Parameters& params, int level) {
  const uint64_t digits = static_cast<uint64_t>((level + params.digit_size()) / params.digit_size());
  const uint64_t limbs = static_cast<uint64_t>(level + 1 + params.digit_size());
  return kSwitchKeyFieldBytes + digits * limbs * params.poly_degree() * sizeof(uint64_t);
}

void save(std::ostream& out, const Context& ctx, const RelinKey& key) {
  Writer w(out);
  w.header(ObjectType::kRelinKey, ctx.parameters().fingerprint());
  write_switch_key(w, ctx, key);
  w.finish();
}

RelinKey load_relin_key(std::istream& in, const Context& ctx) {
  Reader r(in);
  r.header(ObjectType::kRelinKey, ctx);
  return read_switch_key(r, ctx);
}

void save(std::ostream& out, const Context& ctx, const GaloisKeys& keys) {
  Writer w(out);
  w.header(ObjectType::kGaloisKeys, ctx.parameters().fingerprint());
  w.put(static_cast<uint32_t>(keys.keys.size()));
  for (const auto& [g, key] : keys.keys) {
    w.put(g);
    write_switch_key(w, ctx, key);
  }
  w.finish();
}

GaloisKeys load_galois_keys(std::istream& in, const Context& ctx) {
  Reader r(in);
  r.header(ObjectType::kGaloisKeys, ctx);
  const auto count = r.get<uint32_t>();
  // The non-identity automorphisms X -> X^g are the N - 1 odd g in [3, 2N).
  if (count > ctx.poly_degree() - 1) fail("implausible number of Galois keys " + std::to_string(count));
  r.require(count * (sizeof(uint64_t) + min_switch_key_bytes(ctx)), std::to_string(count) + " Galois keys");
  GaloisKeys keys;
  for (uint32_t i = 0; i < count; ++i) {
    const auto g = r.get<uint64_t>();
    if (g % 2 == 0 || g >= 2 * ctx.poly_degree() || g == 1) fail("invalid Galois element " + std::to_string(g));
    if (keys.has(g)) fail("repeated Galois element " + std::to_string(g));
    keys.keys.emplace(g, read_switch_key(r, ctx));
  }
  return keys;
}

void save(std::ostream& out, const Context& ctx, const Plaintext& pt) {
  if (pt.poly_degree() != ctx.poly_degree() || pt.level() < 0) throw std::invalid_argument("save: empty plaintext");
  Writer w(out);
  w.header(ObjectType::kPlaintext, ctx.parameters().fingerprint());
  w.put(static_cast<int32_t>(pt.level()));
  w.put(pt.scale());
  w.put(static_cast<uint32_t>(pt.poly_degree()));
  w.words(pt.data().data(), pt.data().size());
  w.finish();
}

Plaintext load_plaintext(std::istream& in, const Context& ctx) {
  Reader r(in);
  r.header(ObjectType::kPlaintext, ctx);
  const int level = read_level(r, ctx);
  const double scale = read_scale(r);
  r.expect_u32(static_cast<uint32_t>(ctx.poly_degree()), "ring degree");
  const auto primes = prime_range(ctx, level, false);
  r.require(primes.size() * limb_bytes(ctx), "plaintext at level " + std::to_string(level));
  Plaintext pt(ctx.poly_degree(), level, scale, NoInit{});
  r.residues(ctx, primes, pt.data().data());
  return pt;
}

void save(std::ostream& out, const Context& ctx, const Ciphertext& ct) {
  Writer w(out);
  w.header(ObjectType::kCiphertext, ctx.parameters().fingerprint());
  write_ciphertext_body(w, ctx, ct);
  w.finish();
}

Ciphertext load_ciphertext(std::istream& in, const Context& ctx) {
  Reader r(in);
  r.header(ObjectType::kCiphertext, ctx);
  return read_ciphertext_body(r, ctx);
}

void save(std::ostream& out, const Context& ctx, const std::vector<Ciphertext>& cts) {
  Writer w(out);
  w.header(ObjectType::kCiphertexts, ctx.parameters().fingerprint());
  w.put(static_cast<uint64_t>(cts.size()));
  for (const auto& ct : cts) write_ciphertext_body(w, ctx, ct);
  w.finish();
}

std::vector<Ciphertext> load_ciphertexts(std::istream& in, const Context& ctx) {
  Reader r(in);
  r.header(ObjectType::kCiphertexts, ctx);
  const auto count = r.get<uint64_t>();
  if (count > kMaxCiphertexts) fail("implausible ciphertext count " + std::to_string(count));
  r.require(count * min_ciphertext_body_bytes(ctx), std::to_string(count) + " ciphertexts");
  std::vector<Ciphertext> cts;
  for (uint64_t i = 0; i < count; ++i) cts.push_back(read_ciphertext_body(r, ctx));  // truncation detected per read
  return cts;
}

void expect_end_of_input(std::istream& in) {
  if (in.peek() != std::char_traits<char>::eof()) fail("trailing bytes after the last object");
}

std::optional<ObjectHeader> read_object_header(std::istream& in) {
  Reader r(in);
  char magic[4];
  r.bytes(magic, 4);
  if (std::memcmp(magic, kMagic, 4) != 0) return std::nullopt;
  ObjectHeader header;
  header.version = r.get<uint16_t>();
  const auto type = r.get<uint16_t>();
  r.bytes(header.fingerprint.data(), header.fingerprint.size());
  switch (static_cast<ObjectType>(type)) {
    case ObjectType::kParameters: header.kind = ObjectKind::Parameters; break;
    case ObjectType::kSecretKey: header.kind = ObjectKind::SecretKey; break;
    case ObjectType::kPublicKey: header.kind = ObjectKind::PublicKey; break;
    case ObjectType::kRelinKey: header.kind = ObjectKind::RelinKey; break;
    case ObjectType::kGaloisKeys: header.kind = ObjectKind::GaloisKeys; break;
    case ObjectType::kPlaintext: header.kind = ObjectKind::Plaintext; break;
    case ObjectType::kCiphertext: header.kind = ObjectKind::Ciphertext; break;
    case ObjectType::kCiphertexts: header.kind = ObjectKind::Ciphertexts; break;
    default: header.kind = ObjectKind::Other;
  }
  return header;
}

}  // namespace cryptounet::ckks
