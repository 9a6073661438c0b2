#include "serve/key_store.h"

#include <spdlog/spdlog.h>

#include "serve/api_error.h"
#include "serve/atomic_file.h"
#include "serve/ids.h"
#include "serve/tokens.h"

namespace cryptounet::serve {

constexpr const char* kKeyExtension = ".keys";

KeyStore::KeyStore(Options options) : options_(std::move(options)) {
  std::filesystem::create_directories(options_.dir);
  for (const auto& client : std::filesystem::directory_iterator(options_.dir)) {
    const auto owner = client.path().filename().string();
    if (!client.is_directory() || !is_valid_client_name(owner)) {
      spdlog::warn("discarding {}: not a client's key folder", client.path().string());
      std::filesystem::remove_all(client.path());
      continue;
    }
    for (const auto& entry : std::filesystem::directory_iterator(client.path())) {
      const auto& path = entry.path();
      const auto id = path.stem().string();
      if (path.extension() != kKeyExtension || !is_valid_id(id) || !entry.is_regular_file() || keys_.contains(id)) {
        std::filesystem::remove(path);  // a leftover of an interrupted publish
        continue;
      }
      const auto modified = std::chrono::file_clock::to_sys(entry.last_write_time());
      keys_.emplace(id, Key{owner, entry.file_size(),
                            std::chrono::time_point_cast<std::chrono::system_clock::duration>(modified)});
    }
  }
}

std::filesystem::path KeyStore::path_of(const std::string& owner, const std::string& id) const {
  return options_.dir / owner / (id + kKeyExtension);
}

const KeyStore::Key* KeyStore::owned(const std::string& owner, const std::string& id) const {
  const auto it = keys_.find(id);
  return it == keys_.end() || it->second.owner != owner ? nullptr : &it->second;
}

void KeyStore::check_room_locked(const std::string& owner) const {
  if (keys_.size() >= options_.max_keys)
    throw ApiError(429, "too_many_keys", "the server already holds " + std::to_string(options_.max_keys) +
                                             " key bundles; retry later");
  std::size_t mine = 0;
  for (const auto& [id, key] : keys_) mine += key.owner == owner;
  if (mine >= options_.max_keys_per_client)
    throw ApiError(429, "key_quota", "this client already holds " + std::to_string(mine) +
                                         " key bundles (its quota); delete one first");
}

void KeyStore::check_room(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  check_room_locked(owner);
}

std::string KeyStore::add(const std::string& owner, const std::filesystem::path& uploaded) {
  std::lock_guard lock(mutex_);
  check_room_locked(owner);
  const auto id = random_id();
  const auto bytes = std::filesystem::file_size(uploaded);
  std::filesystem::create_directories(options_.dir / owner);
  publish_file(uploaded, path_of(owner, id));
  keys_.emplace(id, Key{owner, bytes, std::chrono::system_clock::now()});
  return id;
}

bool KeyStore::remove(const std::string& owner, const std::string& id) {
  std::lock_guard lock(mutex_);
  if (!owned(owner, id)) return false;
  keys_.erase(id);
  std::error_code ignored;
  std::filesystem::remove(path_of(owner, id), ignored);
  return true;
}

std::optional<std::filesystem::path> KeyStore::find(const std::string& owner, const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (!owned(owner, id)) return std::nullopt;
  return path_of(owner, id);
}

std::optional<std::filesystem::path> KeyStore::use(const std::string& owner, const std::string& id) {
  std::lock_guard lock(mutex_);
  if (!owned(owner, id)) return std::nullopt;
  const auto now = std::chrono::system_clock::now();
  keys_.at(id).last_used = now;
  // The file's time is the key's age after a restart.
  std::error_code ignored;
  std::filesystem::last_write_time(path_of(owner, id),
                                   std::chrono::file_clock::from_sys(now), ignored);
  return path_of(owner, id);
}

std::optional<double> KeyStore::expires_at(const std::string& owner, const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto* key = owned(owner, id);
  if (!key) return std::nullopt;
  return std::chrono::duration<double>((key->last_used + options_.ttl).time_since_epoch()).count();
}

std::size_t KeyStore::size() const {
  std::lock_guard lock(mutex_);
  return keys_.size();
}

std::size_t KeyStore::count_of(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [id, key] : keys_) n += key.owner == owner;
  return n;
}

std::uint64_t KeyStore::bytes_of(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  std::uint64_t bytes = 0;
  for (const auto& [id, key] : keys_)
    if (key.owner == owner) bytes += key.bytes;
  return bytes;
}

std::size_t KeyStore::expire(std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::size_t removed = 0;
  for (auto it = keys_.begin(); it != keys_.end();) {
    if (it->second.last_used + options_.ttl <= now) {
      std::error_code ignored;
      std::filesystem::remove(path_of(it->second.owner, it->first), ignored);
      it = keys_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace cryptounet::serve
