// The first check on any file offered as evaluation keys or as a batch, by its first bytes and before it is parsed:
// a CKKS secret key is refused (the service must never hold one), and so is any other kind of file than the one
// expected (the client's public-key file, bare CKKS objects, keys where a batch belongs and the reverse). Used by the
// HTTP front end on upload and by cluster workers on every key bundle they fetch.
#pragma once
#include <filesystem>

#include "henn/upload_check.h"

namespace cryptounet::serve {

// Throws UploadRejected unless `kind` is `expected`: SecretKey for a CKKS secret key, Malformed naming what the file
// is instead otherwise. `what` names the expected file in the message.
void require_file_kind(henn::FileKind kind, henn::FileKind expected, const char* what);

// require_file_kind for an evaluation-key bundle stored at `path`; a file too short to identify is refused.
void refuse_non_bundles(const std::filesystem::path& path);

}  // namespace cryptounet::serve
