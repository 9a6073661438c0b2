// libFuzzer target: every ckks object loader that takes a context (keys, ciphertexts, plaintexts), against a fixed
// small context. Byte 0 picks the loader; the rest is the serialized object.
#include <cstdint>
#include <sstream>
#include <string>

#include "refusal.h"
#include "ckks/serialization.h"
#include "fuzz_context.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  using namespace cryptounet::ckks;
  const auto& ctx = *cryptounet::fuzz::small_context();
  std::istringstream in(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  cryptounet::fuzz::expect_parse_or_refusal([&] {
    switch (data[0] % 7) {
      case 0: (void)load_secret_key(in, ctx); break;
      case 1: (void)load_public_key(in, ctx); break;
      case 2: (void)load_relin_key(in, ctx); break;
      case 3: (void)load_galois_keys(in, ctx); break;
      case 4: (void)load_ciphertext(in, ctx); break;
      case 5: (void)load_ciphertexts(in, ctx); break;
      case 6: (void)load_plaintext(in, ctx); break;
    }
  });
  return 0;
}
