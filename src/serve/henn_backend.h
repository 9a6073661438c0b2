// The real inference backend: the encrypted U-Net of src/henn (henn::run_inference) behind InferenceBackend. This
// file pair is the only part of the service that knows the henn API.
//   keys   = henn evaluation-key bundle (eval.bin of `cryptounet keygen`: plan, parameters, relin + Galois keys)
//   batch  = henn encrypted batch (`cryptounet encrypt`), result = the same format (`cryptounet decrypt` reads it)
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>

#include "henn/key_bundle.h"
#include "nn/model.h"
#include "serve/backend.h"

namespace cryptounet::serve {

class HennBackend : public InferenceBackend {
 public:
  explicit HennBackend(nn::Model model);

  const nn::Model& model() const { return model_; }
  std::vector<std::string> layer_names() const override;
  HeaderVerdict check_keys_header(std::string_view head) const override;
  HeaderVerdict check_batch_header(std::string_view head, const std::filesystem::path& keys) const override;
  void validate_keys(const std::filesystem::path& keys) const override;
  void validate_batch(const std::filesystem::path& batch, const std::filesystem::path& keys) const override;
  void run(const std::filesystem::path& keys, const std::filesystem::path& batch,
           const std::filesystem::path& result, const ProgressCallback& progress) override;
  // Frees the engine's buffer pool and trims the heap; the last evaluation keys stay loaded (see load_keys).
  void release_memory() override;

  using ContentHash = std::array<std::uint8_t, 32>;

 private:
  // Evaluation keys are large and slow to parse: the last bundle used stays loaded, found again by the BLAKE2b hash
  // of the file's content (not its name or inode, which a new upload can reuse), so cached keys are only ever
  // those exact bytes, validated.
  std::shared_ptr<const henn::EvaluationKeys> load_keys(const std::filesystem::path& keys) const;

  nn::Model model_;
  mutable std::mutex cache_mutex_;
  mutable ContentHash cached_hash_{};
  mutable std::shared_ptr<const henn::EvaluationKeys> cached_keys_;
};

// BLAKE2b-256 of a file's content (read in chunks). Throws std::runtime_error when the file cannot be read.
HennBackend::ContentHash hash_file(const std::filesystem::path& path);

// Loads the model (ONNX + JSON sidecar) once; throws if it cannot be loaded.
std::unique_ptr<InferenceBackend> make_henn_backend(const std::filesystem::path& model);

}  // namespace cryptounet::serve
