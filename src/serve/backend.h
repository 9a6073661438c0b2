// What the service needs from an inference engine. The HTTP layer, job store and scheduler only see this
// interface: tests and fuzzers use FakeBackend, `cryptounet serve` uses HennBackend (encrypted U-Net).
#pragma once
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cryptounet::serve {

// Why an uploaded file was refused. Each reason maps to one HTTP status (service.cpp).
enum class RejectReason {
  Malformed,        // truncated, garbage, wrong magic/version, inconsistent lengths -> 400
  SecretKey,        // the upload parses as a secret key: the server must never hold one -> 403
  WrongParameters,  // well formed, but for other CKKS parameters than the model's -> 422
};

class UploadRejected : public std::runtime_error {
 public:
  UploadRejected(RejectReason reason, const std::string& message) : std::runtime_error(message), reason_(reason) {}
  RejectReason reason() const { return reason_; }

 private:
  RejectReason reason_;
};

// The verdict on the first bytes of an upload, judged while the rest is still arriving.
enum class HeaderVerdict {
  NeedMore,  // the header continues beyond these bytes
  Accepted,  // the header fits this model (the whole file is validated once it has arrived)
};
// A header that does not fit in this many bytes is refused (a batch header lists its images' names and sizes).
inline constexpr std::size_t kMaxHeaderBytes = std::size_t{1} << 20;

// Reported by run() after each layer; returning false asks the backend to stop (job deleted). A batch of several
// ciphertexts goes through the network group by group: this layer is done for ciphertexts
// [first_ciphertext, first_ciphertext + group_size) of ciphertext_count.
struct LayerDone {
  std::size_t index;  // 0-based position in layer_names()
  double seconds;     // wall time of this layer for this group
  std::size_t first_ciphertext = 0;
  std::size_t group_size = 1;
  std::size_t ciphertext_count = 1;
};
using ProgressCallback = std::function<bool(const LayerDone&)>;

// Thrown by run() when the progress callback asked it to stop.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("job cancelled") {}
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  // The layers run() reports, in order (for progress and the per-layer metrics).
  virtual std::vector<std::string> layer_names() const = 0;
  // Header-first checks, called with the first bytes of an upload (as many as have arrived, at most
  // kMaxHeaderBytes) before the rest is read: throw UploadRejected as soon as those bytes show the upload is not a
  // key bundle (or batch) for this model, and for a batch, for the keys in the file `keys`.
  virtual HeaderVerdict check_keys_header(std::string_view head) const = 0;
  virtual HeaderVerdict check_batch_header(std::string_view head, const std::filesystem::path& keys) const = 0;
  // Throws UploadRejected unless `keys` is an evaluation-key bundle usable with this model.
  virtual void validate_keys(const std::filesystem::path& keys) const = 0;
  // Throws UploadRejected unless `batch` is an encrypted batch this model can run with those keys.
  virtual void validate_batch(const std::filesystem::path& batch, const std::filesystem::path& keys) const = 0;
  // Runs the model on the validated batch and writes the encrypted result to `result`. Thread-safe: several
  // workers call it at once. Throws on failure (the job is marked failed with the message).
  virtual void run(const std::filesystem::path& keys, const std::filesystem::path& batch,
                   const std::filesystem::path& result, const ProgressCallback& progress) = 0;
  // Called when the last running job has finished and none is queued: give scratch memory back to the system so
  // that an idle server does not keep the peak of its last job.
  virtual void release_memory() {}
  // Lines the backend adds to /metrics, in the Prometheus text format (a cluster front end's queue and workers).
  virtual std::string metrics() const { return {}; }
};

}  // namespace cryptounet::serve
