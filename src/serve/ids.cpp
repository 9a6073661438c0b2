#include "serve/ids.h"

#include <sodium.h>

#include <array>
#include <stdexcept>

namespace cryptounet::serve {

constexpr std::size_t kIdBytes = 16;

std::string random_id() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium initialization failed");
  std::array<unsigned char, kIdBytes> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::string hex(2 * kIdBytes + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  hex.pop_back();
  return hex;
}

bool is_valid_id(std::string_view id) {
  if (id.size() != 2 * kIdBytes) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace cryptounet::serve
