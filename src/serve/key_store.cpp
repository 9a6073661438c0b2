#include "serve/key_store.h"

#include "serve/api_error.h"
#include "serve/atomic_file.h"
#include "serve/ids.h"

namespace cryptounet::serve {

constexpr const char* kKeyExtension = ".keys";

KeyStore::KeyStore(std::filesystem::path dir, std::size_t max_keys) : dir_(std::move(dir)), max_keys_(max_keys) {
  std::filesystem::create_directories(dir_);
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const auto& path = entry.path();
    if (path.extension() == kKeyExtension && is_valid_id(path.stem().string())) ids_.insert(path.stem().string());
    else std::filesystem::remove(path);  // a leftover of an interrupted publish
  }
}

std::filesystem::path KeyStore::path_of(const std::string& id) const { return dir_ / (id + kKeyExtension); }

std::string KeyStore::add(const std::filesystem::path& uploaded) {
  std::lock_guard lock(mutex_);
  if (ids_.size() >= max_keys_)
    throw ApiError(429, "too_many_keys", "the server already holds " + std::to_string(max_keys_) +
                                             " key bundles; delete one first");
  const auto id = random_id();
  publish_file(uploaded, path_of(id));
  ids_.insert(id);
  return id;
}

bool KeyStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (ids_.erase(id) == 0) return false;
  std::filesystem::remove(path_of(id));
  return true;
}

std::optional<std::filesystem::path> KeyStore::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (!ids_.contains(id)) return std::nullopt;
  return path_of(id);
}

bool KeyStore::full() const {
  std::lock_guard lock(mutex_);
  return ids_.size() >= max_keys_;
}

std::size_t KeyStore::size() const {
  std::lock_guard lock(mutex_);
  return ids_.size();
}

}  // namespace cryptounet::serve
