#include "serve/bundle_check.h"

#include <fstream>
#include <string>

#include "serve/backend.h"

namespace cryptounet::serve {

void require_file_kind(henn::FileKind kind, henn::FileKind expected, const char* what) {
  if (kind == expected) return;
  switch (kind) {
    case henn::FileKind::SecretKey: throw UploadRejected(RejectReason::SecretKey, "CKKS secret key");
    case henn::FileKind::ClientPublicKey:
      throw UploadRejected(RejectReason::Malformed,
                           "this is the client's public key file (public.bin); upload the evaluation keys (eval.bin)");
    case henn::FileKind::CkksObject:
      throw UploadRejected(RejectReason::Malformed, std::string("a bare CKKS object, not ") + what);
    case henn::FileKind::EvaluationKeys:
      throw UploadRejected(RejectReason::Malformed, std::string("evaluation keys (eval.bin), not ") + what);
    case henn::FileKind::EncryptedBatch:
      throw UploadRejected(RejectReason::Malformed, std::string("an encrypted batch, not ") + what);
    case henn::FileKind::Unknown: break;
  }
  throw UploadRejected(RejectReason::Malformed, std::string("not ") + what + " (unknown format)");
}

void refuse_non_bundles(const std::filesystem::path& path) {
  std::string head(henn::kFileKindBytes, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const auto kind = henn::identify_file(head);
  if (!kind) throw UploadRejected(RejectReason::Malformed, "evaluation keys: the file ends inside its header");
  require_file_kind(*kind, henn::FileKind::EvaluationKeys, "an evaluation-key bundle (eval.bin)");
}

}  // namespace cryptounet::serve
