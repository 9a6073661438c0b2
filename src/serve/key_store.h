// Registered evaluation-key bundles, each owned by the client that uploaded it: one file per key under
// <data-dir>/keys/<client>/<key id>.keys, bounded in number overall and per client. A key expires `ttl` after it
// was last registered or used, so an abandoned key frees its slot. The files survive a restart (re-listed on
// start, their age taken from the file's modification time). Jobs hard-link the bundle they use, so deleting or
// expiring a key never pulls it from under a queued or running job.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace cryptounet::serve {

class KeyStore {
 public:
  struct Options {
    std::filesystem::path dir;
    std::size_t max_keys = 16;            // over all clients
    std::size_t max_keys_per_client = 4;
    std::chrono::seconds ttl{24 * 3600};  // since registration or last use
  };
  explicit KeyStore(Options options);

  // Throws ApiError 429 unless `owner` may register one more key (checked again by add()).
  void check_room(const std::string& owner) const;
  // Takes ownership of a validated upload (renamed into the store). Throws ApiError 429 when full.
  std::string add(const std::string& owner, const std::filesystem::path& uploaded);
  // Each of these sees only the owner's own keys: another client's key is as absent as an unknown one.
  bool remove(const std::string& owner, const std::string& id);
  std::optional<std::filesystem::path> find(const std::string& owner, const std::string& id) const;
  // find() that also restarts the key's time to live (a job was submitted with it).
  std::optional<std::filesystem::path> use(const std::string& owner, const std::string& id);
  std::optional<double> expires_at(const std::string& owner, const std::string& id) const;  // Unix seconds

  std::size_t size() const;
  std::size_t count_of(const std::string& owner) const;
  std::uint64_t bytes_of(const std::string& owner) const;
  // Deletes keys whose time to live has passed; returns how many.
  std::size_t expire(std::chrono::system_clock::time_point now);

 private:
  struct Key {
    std::string owner;
    std::uint64_t bytes = 0;
    std::chrono::system_clock::time_point last_used;
  };
  std::filesystem::path path_of(const std::string& owner, const std::string& id) const;
  const Key* owned(const std::string& owner, const std::string& id) const;
  void check_room_locked(const std::string& owner) const;

  Options options_;
  mutable std::mutex mutex_;
  std::map<std::string, Key> keys_;  // by key id
};

}  // namespace cryptounet::serve
