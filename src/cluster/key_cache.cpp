#include "cluster/key_cache.h"

#include <algorithm>

namespace cryptounet::cluster {

std::shared_ptr<const henn::EvaluationKeys> KeyCache::find(const std::string& hash) {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.first == hash; });
  if (it == entries_.end()) return nullptr;
  entries_.splice(entries_.begin(), entries_, it);
  return entries_.front().second;
}

void KeyCache::insert(const std::string& hash, std::shared_ptr<const henn::EvaluationKeys> keys) {
  std::lock_guard lock(mutex_);
  if (const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.first == hash; });
      it != entries_.end()) {
    bytes_ -= it->second->memory_bytes();
    entries_.erase(it);
  }
  bytes_ += keys->memory_bytes();
  entries_.emplace_front(hash, std::move(keys));
  while (entries_.size() > 1 && bytes_ > max_bytes_) {
    bytes_ -= entries_.back().second->memory_bytes();
    entries_.pop_back();
  }
}

std::vector<std::string> KeyCache::hashes() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

std::uint64_t KeyCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t KeyCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace cryptounet::cluster
