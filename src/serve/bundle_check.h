// The first check on any file offered as evaluation keys, before it is parsed: a CKKS secret key is refused (the
// service must never hold one), and so are the client's public-key file and bare CKKS objects. Used by the HTTP
// front end on upload and by cluster workers on every key bundle they fetch.
#pragma once
#include <filesystem>

namespace cryptounet::serve {

// Throws UploadRejected (SecretKey or Malformed) when `path` starts like one of those files.
void refuse_non_bundles(const std::filesystem::path& path);

}  // namespace cryptounet::serve
