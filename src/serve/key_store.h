// Registered evaluation-key bundles: one file per key id under <data-dir>/keys/, bounded in number. The files
// survive a restart (they are re-listed on start). Jobs hard-link the bundle they use, so deleting a key never
// pulls it from under a queued or running job.
#pragma once
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace cryptounet::serve {

class KeyStore {
 public:
  KeyStore(std::filesystem::path dir, std::size_t max_keys);

  // Takes ownership of a validated upload (renamed into the store). Throws ApiError 429 when full.
  std::string add(const std::filesystem::path& uploaded);
  bool remove(const std::string& id);
  std::optional<std::filesystem::path> find(const std::string& id) const;
  bool full() const;
  std::size_t size() const;

 private:
  std::filesystem::path path_of(const std::string& id) const;

  std::filesystem::path dir_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::set<std::string> ids_;
};

}  // namespace cryptounet::serve
