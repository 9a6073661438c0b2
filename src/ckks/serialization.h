// Versioned binary format. Every object starts with a header: magic "CUCK", format version (u16), object type (u16),
// the 32-byte parameter fingerprint, then its fields with explicit lengths (little-endian). Seeded polynomials
// (public "a" parts, fresh secret-key ciphertexts) store the 32-byte seed instead of the data (half size).
// Every load validates magic, version, type, fingerprint against the given context, every length against the
// parameters, and every coefficient against its prime (< q_i); truncated or corrupted input throws
// std::runtime_error with a message, never crashes.
#pragma once

#include <iosfwd>
#include <sstream>
#include <string>
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

// Files. The secret key file (N ternary coefficients, one byte each) is created with mode 0600 (owner read/write).
void save_secret_key(const std::string& path, const Context& ctx, const SecretKey& key);
SecretKey load_secret_key(const std::string& path, const Context& ctx);

// Serialized size in bytes (for benchmarks and capacity planning).
template <class T>
size_t serialized_size(const Context& ctx, const T& object) {
  std::ostringstream out;
  save(out, ctx, object);
  return out.str().size();
}

}  // namespace cryptounet::ckks
