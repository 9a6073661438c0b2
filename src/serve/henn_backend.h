// The real inference backend: the encrypted U-Net of src/henn (henn::run_inference) behind InferenceBackend. This
// file pair is the only part of the service that knows the henn and ckks APIs.
//   keys   = henn evaluation-key bundle (eval.bin of `cryptounet keygen`: plan, parameters, relin + Galois keys)
//   batch  = henn encrypted batch (`cryptounet encrypt`), result = the same format (`cryptounet decrypt` reads it)
#pragma once
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <utility>

#include "henn/key_bundle.h"
#include "nn/model.h"
#include "serve/backend.h"

namespace cryptounet::serve {

class HennBackend : public InferenceBackend {
 public:
  explicit HennBackend(nn::Model model);

  std::vector<std::string> layer_names() const override;
  void validate_keys(const std::filesystem::path& keys) const override;
  void validate_batch(const std::filesystem::path& batch, const std::filesystem::path& keys) const override;
  void run(const std::filesystem::path& keys, const std::filesystem::path& batch,
           const std::filesystem::path& result, const ProgressCallback& progress) override;
  // Frees the engine's buffer pool and trims the heap; the last evaluation keys stay loaded (see load_keys).
  void release_memory() override;

 private:
  // Evaluation keys are large and slow to parse: the last bundle used stays loaded. A job's key file is a hard
  // link of the registered one, so the cache is keyed by inode.
  std::shared_ptr<const henn::EvaluationKeys> load_keys(const std::filesystem::path& keys) const;

  nn::Model model_;
  mutable std::mutex cache_mutex_;
  mutable std::pair<std::uint64_t, std::uint64_t> cached_inode_{0, 0};
  mutable std::shared_ptr<const henn::EvaluationKeys> cached_keys_;
};

// Loads the model (ONNX + JSON sidecar) once; throws if it cannot be loaded.
std::unique_ptr<InferenceBackend> make_henn_backend(const std::filesystem::path& model);

}  // namespace cryptounet::serve
