// A worker's parsed evaluation keys, least recently used first out, capped in bytes (henn::EvaluationKeys::
// memory_bytes). Parsing a bundle costs seconds to minutes, so a worker that serves the same clients again keeps
// theirs. The newest bundle always stays, even alone over the cap: a worker must be able to run its current task.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "henn/key_bundle.h"

namespace cryptounet::cluster {

class KeyCache {
 public:
  explicit KeyCache(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // The keys stored under `hash` (now the most recently used), or null.
  std::shared_ptr<const henn::EvaluationKeys> find(const std::string& hash);
  void insert(const std::string& hash, std::shared_ptr<const henn::EvaluationKeys> keys);

  // The hashes held, most recently used first.
  std::vector<std::string> hashes() const;
  std::uint64_t bytes() const;
  std::size_t size() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const henn::EvaluationKeys>>;
  const std::uint64_t max_bytes_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::uint64_t bytes_ = 0;
};

}  // namespace cryptounet::cluster
