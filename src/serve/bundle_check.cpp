#include "serve/bundle_check.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "serve/backend.h"

namespace cryptounet::serve {
namespace {

// On-disk format constants of the files a client might upload by mistake (ckks/serialization.cpp writes every
// object as "CUCK", u16 version, u16 type; type 2 is a secret key; henn's client public-key file starts "CUPK").
constexpr char kCkksMagic[4] = {'C', 'U', 'C', 'K'};
constexpr std::uint16_t kCkksSecretKeyType = 2;
constexpr char kClientPublicMagic[4] = {'C', 'U', 'P', 'K'};

}  // namespace

void refuse_non_bundles(const std::filesystem::path& path) {
  std::array<char, 8> head{};
  std::ifstream in(path, std::ios::binary);
  in.read(head.data(), head.size());
  if (in.gcount() >= 8 && std::memcmp(head.data(), kCkksMagic, 4) == 0) {
    std::uint16_t type = 0;
    std::memcpy(&type, head.data() + 6, sizeof type);
    if (type == kCkksSecretKeyType) throw UploadRejected(RejectReason::SecretKey, "CKKS secret key");
    throw UploadRejected(RejectReason::Malformed, "a bare CKKS object, not an evaluation-key bundle (eval.bin)");
  }
  if (in.gcount() >= 4 && std::memcmp(head.data(), kClientPublicMagic, 4) == 0)
    throw UploadRejected(RejectReason::Malformed,
                         "this is the client's public key file (public.bin); upload the evaluation keys (eval.bin)");
}

}  // namespace cryptounet::serve
