// Versioned binary format. Every object starts with a header: magic "CUCK", format version (u16), object type (u16),
// the 32-byte parameter fingerprint, then its fields with explicit lengths (little-endian). Seeded polynomials
// (public "a" parts, fresh secret-key ciphertexts) store the 32-byte seed instead of the data (half size).
// Every load validates magic, version, type, fingerprint against the given context, every length against the
// parameters, and every coefficient against its prime (< q_i); truncated or corrupted input throws
// std::runtime_error with a message, never crashes. Loads are bounded by their input: the stream must be able to
// report its size (a file or a string stream), and every size a header declares is checked against the bytes that
// remain before anything is allocated for it, so a short input never costs more than twice its own size in memory.
#pragma once

#include <array>
#include <iosfwd>
#include <optional>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <type_traits>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/context.h"
#include "ckks/keys.h"
#include "ckks/params.h"
#include "ckks/plaintext.h"

namespace cryptounet::ckks {

inline constexpr uint16_t kSerializationVersion = 1;

void save(std::ostream& out, const Parameters& params);
Parameters load_parameters(std::istream& in);  // re-creates (and re-validates) the parameter set

void save(std::ostream& out, const Context& ctx, const SecretKey& key);
void save(std::ostream& out, const Context& ctx, const PublicKey& key);
void save(std::ostream& out, const Context& ctx, const RelinKey& key);
void save(std::ostream& out, const Context& ctx, const GaloisKeys& keys);
void save(std::ostream& out, const Context& ctx, const Plaintext& pt);
void save(std::ostream& out, const Context& ctx, const Ciphertext& ct);
void save(std::ostream& out, const Context& ctx, const std::vector<Ciphertext>& cts);

SecretKey load_secret_key(std::istream& in, const Context& ctx);
PublicKey load_public_key(std::istream& in, const Context& ctx);
RelinKey load_relin_key(std::istream& in, const Context& ctx);
GaloisKeys load_galois_keys(std::istream& in, const Context& ctx);
Plaintext load_plaintext(std::istream& in, const Context& ctx);
Ciphertext load_ciphertext(std::istream& in, const Context& ctx);
std::vector<Ciphertext> load_ciphertexts(std::istream& in, const Context& ctx);

// For loaders of a whole file holding a known sequence of objects: throws std::runtime_error if anything follows the
// last one (e.g. a secret key appended to an evaluation-key file).
void expect_end_of_input(std::istream& in);

// What a serialized object is, read from its header alone: files of unknown origin (uploads) are identified, and
// their parameters compared, before anything is allocated for them.
enum class ObjectKind { Parameters, SecretKey, PublicKey, RelinKey, GaloisKeys, Plaintext, Ciphertext, Ciphertexts, Other };
struct ObjectHeader {
  ObjectKind kind = ObjectKind::Other;
  uint16_t version = 0;
  std::array<uint8_t, 32> fingerprint{};  // of the parameters the object belongs to
};
inline constexpr size_t kObjectHeaderBytes = 40;
// Reads the header at the stream's position: std::nullopt when the bytes there are not an object header (bad magic);
// throws std::runtime_error when the stream ends inside it.
std::optional<ObjectHeader> read_object_header(std::istream& in);

// The secret key file (N ternary coefficients, one byte each). It is written to a new temporary file in the same
// folder (O_EXCL, O_NOFOLLOW, mode 0600), synced and renamed into place, then the folder is synced: a crash leaves
// the old key or the new one, never a partial file. An existing `path` is refused unless `existing` is kReplace;
// a symbolic link at `path` is always refused. Every buffer that held the key is wiped.
enum class IfExists { kRefuse, kReplace };
void save_secret_key(const std::string& path, const Context& ctx, const SecretKey& key,
                     IfExists existing = IfExists::kRefuse);
// Reads exactly one secret key: the file must have the size of one for this context.
SecretKey load_secret_key(const std::string& path, const Context& ctx);
size_t secret_key_bytes(const Context& ctx);  // serialized size of a secret key
// Serialized size of one key-switching key made for levels up to `level`, without object headers (the body of a
// relinearization key or of one Galois key). Needs no context, so a loader can refuse a short file before it builds
// one.
uint64_t switch_key_bytes(const Parameters& params, int level);

// An output buffer that counts the bytes written to it and stores none.
class CountingBuffer : public std::streambuf {
 public:
  size_t count() const { return count_; }

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) ++count_;
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char*, std::streamsize n) override {
    count_ += static_cast<size_t>(n);
    return n;
  }

 private:
  size_t count_ = 0;
};

// Serialized size in bytes (for benchmarks and capacity planning; secret_key_bytes for a secret key). Nothing is
// stored: the size of a whole key set costs no memory.
template <class T>
  requires(!std::is_same_v<T, SecretKey>)
size_t serialized_size(const Context& ctx, const T& object) {
  CountingBuffer counter;
  std::ostream out(&counter);
  save(out, ctx, object);
  return counter.count();
}

}  // namespace cryptounet::ckks
