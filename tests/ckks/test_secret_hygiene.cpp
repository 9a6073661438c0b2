// Secret hygiene: no heap block freed during key generation, encryption, decryption or a secret-key file round trip
// still holds the secret key or a value derived from it. Every freed block is copied aside (heap_probe.h) and then
// searched for the secret in NTT form, in ternary bytes (as in the key file), s^2 (relinearization) and s permuted by
// an automorphism (Galois keys). The needles are 32 to 64 bytes of key material, so a match by chance is impossible.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <span>

#include "ckks/decryptor.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/keygenerator.h"
#include "ckks/serialization.h"
#include "heap_probe.h"

using namespace cryptounet::ckks;

namespace {

constexpr size_t kLogN = 13, kN = size_t{1} << kLogN;

// Key material to look for, held on the stack so that computing it leaves nothing on the heap.
struct Needles {
  std::array<uint64_t, 4> ntt{}, squared{}, permuted{};
  std::array<int8_t, 64> ternary{};

  static Needles of(const Context& ctx, const SecretKey& secret, uint64_t galois_elt) {
    Needles needles;
    const Modulus& q0 = ctx.modulus(0);
    const auto perm = ctx.galois_permutation_ntt(galois_elt);
    for (size_t k = 0; k < needles.ntt.size(); ++k) {
      needles.ntt[k] = secret.data[k];
      needles.squared[k] = q0.mul(secret.data[k], secret.data[k]);
      needles.permuted[k] = secret.data[perm[k]];
    }
    std::array<uint64_t, kN> coeffs;
    std::copy(secret.data.begin(), secret.data.begin() + kN, coeffs.begin());
    ntt_inverse(coeffs.data(), ctx.ntt(0));
    for (size_t k = 0; k < needles.ternary.size(); ++k)
      needles.ternary[k] = coeffs[k] == q0.value - 1 ? int8_t{-1} : static_cast<int8_t>(coeffs[k]);
    coeffs.fill(0);
    return needles;
  }
};

template <class T, size_t N>
bool freed_memory_holds(const std::array<T, N>& needle) {
  return heap_probe::freed().contains(std::as_bytes(std::span(needle)));
}

}  // namespace

TEST(SecretHygiene, NoFreedBlockHoldsTheSecretKey) {
  const auto ctx = Context::create(Parameters::create({kLogN, {50, 40, 40}, {50}}));
  ASSERT_EQ(ctx->poly_degree(), kN);
  const std::vector<int> steps = {1};
  const uint64_t galois_elt = ctx->galois_element(1);
  const auto dir = std::filesystem::temp_directory_path() / ("cryptounet_hygiene_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string key_path = (dir / "secret.key").string();
  const std::vector<double> values(ctx->slot_count(), 0.25);
  Encoder encoder(ctx);
  const Plaintext pt = encoder.encode(std::span<const double>(values), ctx->max_level(), 0x1p30);

  Needles needles;
  (void)heap_probe::freed();  // the arena exists before recording starts
  heap_probe::record_freed = true;
  {
    KeyGenerator keygen(ctx);
    needles = Needles::of(*ctx, keygen.secret_key(), galois_elt);
    const PublicKey public_key = keygen.create_public_key();
    (void)keygen.create_relin_key();
    (void)keygen.create_galois_keys(steps);
    const KeyGenerator copy(ctx, keygen.secret_key());
    const Encryptor symmetric(ctx, keygen.secret_key()), asymmetric(ctx, public_key);
    const Decryptor decryptor(ctx, keygen.secret_key());
    (void)decryptor.decrypt(symmetric.encrypt(pt));
    (void)decryptor.decrypt(asymmetric.encrypt(pt));
    save_secret_key(key_path, *ctx, keygen.secret_key());
    const SecretKey loaded = load_secret_key(key_path, *ctx);
    EXPECT_TRUE(loaded.data == keygen.secret_key().data);
  }
  heap_probe::record_freed = false;
  std::filesystem::remove_all(dir);

  ASSERT_FALSE(heap_probe::freed().overflowed());
  EXPECT_FALSE(freed_memory_holds(needles.ntt)) << "the secret key (NTT form)";
  EXPECT_FALSE(freed_memory_holds(needles.ternary)) << "the secret key (ternary coefficients)";
  EXPECT_FALSE(freed_memory_holds(needles.squared)) << "s^2";
  EXPECT_FALSE(freed_memory_holds(needles.permuted)) << "s permuted by a Galois automorphism";
}

// The probe finds what it should: key material freed from a plain vector is found, from a SecretVector it is not.
TEST(SecretHygiene, ProbeFindsAnUnwipedCopyAndNotAWipedOne) {
  const std::array<uint64_t, 4> plain = {0x0123456789abcdefULL, 0x1122334455667788ULL, 0x99aabbccddeeff00ULL, 42};
  const std::array<uint64_t, 4> secret = {0x0fedcba987654321ULL, 0x8877665544332211ULL, 0x00ffeeddccbbaa99ULL, 43};
  (void)heap_probe::freed();
  heap_probe::record_freed = true;
  { const std::vector<uint64_t> copy(plain.begin(), plain.end()); }
  { const SecretVector<uint64_t> copy(secret.begin(), secret.end()); }
  heap_probe::record_freed = false;
  EXPECT_TRUE(freed_memory_holds(plain));
  EXPECT_FALSE(freed_memory_holds(secret));
}
