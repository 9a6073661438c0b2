#include "ckks/buffer.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

namespace cryptounet::ckks {

namespace {

// Free blocks of one size, and when a block of that size was last handed out or given back.
struct SizeClass {
  std::vector<void*> blocks;
  uint64_t last_use = 0;
};

struct Pool {
  std::mutex mutex;
  std::map<size_t, SizeClass> classes;           // free blocks by block size
  std::unordered_map<void*, size_t> block_size;  // blocks handed out for a smaller request: their real size
  size_t cached = 0;
  uint64_t clock = 0;
};

Pool& pool() {
  static Pool* instance = new Pool();  // never destroyed: blocks may be freed during static destruction
  return *instance;
}

size_t aligned_size(size_t bytes) { return (bytes + 63) / 64 * 64; }

// A request is served by a cached block up to 1/8 larger: one level less is one limb less (1/24 of a ciphertext
// at the default model's top level), so the blocks of the last few levels serve the current one.
size_t largest_fit(size_t bytes) { return bytes + bytes / 8; }

// Frees cached blocks of other sizes, least recently used size first, until `bytes` more fit under the cap.
// Sizes follow the level of the computation (limbs per polynomial), so blocks of the levels a network has left
// behind would otherwise fill the cap and leave the current level uncached.
void evict_for(Pool& p, size_t bytes) {
  while (p.cached + bytes > kPoolCapBytes) {
    auto oldest = p.classes.end();
    for (auto it = p.classes.begin(); it != p.classes.end(); ++it) {
      if (it->first == bytes || it->second.blocks.empty()) continue;
      if (oldest == p.classes.end() || it->second.last_use < oldest->second.last_use) oldest = it;
    }
    if (oldest == p.classes.end()) return;
    std::free(oldest->second.blocks.back());
    oldest->second.blocks.pop_back();
    p.cached -= oldest->first;
  }
}

}  // namespace

void* pool_allocate(size_t bytes) {
  {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    for (auto it = p.classes.lower_bound(bytes); it != p.classes.end() && it->first <= largest_fit(bytes); ++it) {
      if (it->second.blocks.empty()) continue;
      // Recorded before the block is taken, so a throwing emplace leaves the pool as it was.
      if (it->first != bytes) p.block_size.emplace(it->second.blocks.back(), it->first);
      void* block = it->second.blocks.back();
      it->second.blocks.pop_back();
      it->second.last_use = ++p.clock;
      p.cached -= it->first;
      return block;
    }
  }
  void* block = std::aligned_alloc(64, aligned_size(bytes));
  if (!block) throw std::bad_alloc();
  return block;
}

void pool_deallocate(void* block, size_t bytes) noexcept {
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    if (const auto it = p.block_size.find(block); it != p.block_size.end()) {
      bytes = it->second;
      p.block_size.erase(it);
    }
    if (bytes <= kPoolCapBytes) {
      try {
        SizeClass& cls = p.classes[bytes];
        cls.last_use = ++p.clock;
        evict_for(p, bytes);
        if (p.cached + bytes <= kPoolCapBytes) {
          cls.blocks.push_back(block);
          p.cached += bytes;
          return;
        }
      } catch (...) {  // bookkeeping allocation failed: release the block instead
      }
    }
  }
  std::free(block);
}

void pool_release() noexcept {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  for (auto& [bytes, cls] : p.classes)
    for (void* block : cls.blocks) std::free(block);
  p.classes.clear();
  p.cached = 0;
}

size_t pool_cached_bytes() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.cached;
}

}  // namespace cryptounet::ckks
