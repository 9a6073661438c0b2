// A stand-in inference engine with the same contract as the real one, for handler tests, the load test and the
// HTTP fuzzer: tiny self-describing files instead of CKKS objects, a configurable delay per fake layer.
//   keys   = "CUFAKEK1" | fingerprint u64 | length u32 | payload      (a secret key has magic "CUFAKESK")
//   batch  = "CUFAKEB1" | fingerprint u64 | length u32 | payload
//   result = "CUFAKER1" | payload with every byte XOR 0x5a              (so a client can check its own result)
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/backend.h"

namespace cryptounet::serve {

class FakeBackend : public InferenceBackend {
 public:
  struct Options {
    std::uint64_t fingerprint = 0xC0FFEE;  // the "parameters" this fake model was built for
    std::size_t layers = 4;
    std::chrono::milliseconds layer_delay{0};
  };
  FakeBackend() : FakeBackend(Options{}) {}
  explicit FakeBackend(Options options) : options_(options) {}

  std::vector<std::string> layer_names() const override;
  HeaderVerdict check_keys_header(std::string_view head) const override;
  HeaderVerdict check_batch_header(std::string_view head, const std::filesystem::path& keys) const override;
  void validate_keys(const std::filesystem::path& keys) const override;
  void validate_batch(const std::filesystem::path& batch, const std::filesystem::path& keys) const override;
  void run(const std::filesystem::path& keys, const std::filesystem::path& batch,
           const std::filesystem::path& result, const ProgressCallback& progress) override;
  void release_memory() override { ++memory_releases_; }
  std::size_t memory_releases() const { return memory_releases_; }

  // Builders for the files a client would send, and the result it should get back.
  static std::string make_keys(std::uint64_t fingerprint, std::string_view payload);
  static std::string make_secret_key(std::uint64_t fingerprint, std::string_view payload);
  static std::string make_batch(std::uint64_t fingerprint, std::string_view payload);
  static std::string expected_result(std::string_view batch_payload);

 private:
  void check_fingerprint(std::string_view head, const char* what) const;

  Options options_;
  std::atomic<std::size_t> memory_releases_{0};
};

}  // namespace cryptounet::serve
