// The real inference backend: the encrypted U-Net of src/henn behind the InferenceBackend interface. This is the
// only file pair of the service that knows the henn and ckks APIs.
#pragma once
#include <filesystem>
#include <memory>

#include "serve/backend.h"

namespace cryptounet::serve {

// Loads the model once; throws if it cannot be loaded.
std::unique_ptr<InferenceBackend> make_henn_backend(const std::filesystem::path& model);

}  // namespace cryptounet::serve
