#include "ckks/buffer.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>

namespace cryptounet::ckks {

namespace {

// Free blocks of one exact size, and when a block of that size was last handed out or given back.
struct SizeClass {
  std::vector<void*> blocks;
  uint64_t last_use = 0;
};

struct Pool {
  std::mutex mutex;
  std::unordered_map<size_t, SizeClass> classes;  // by exact size
  size_t cached = 0;
  uint64_t clock = 0;
};

Pool& pool() {
  static Pool* instance = new Pool();  // never destroyed: blocks may be freed during static destruction
  return *instance;
}

size_t aligned_size(size_t bytes) { return (bytes + 63) / 64 * 64; }

// Frees cached blocks of other sizes, least recently used size first, until `bytes` more fit under the cap.
// Sizes follow the level of the computation (limbs per polynomial), so blocks of the levels a network has left
// behind would otherwise fill the cap and leave the current level uncached.
void evict_for(Pool& p, size_t bytes) {
  while (p.cached + bytes > kPoolCapBytes) {
    SizeClass* oldest = nullptr;
    size_t oldest_bytes = 0;
    for (auto& [size, cls] : p.classes) {
      if (size == bytes || cls.blocks.empty()) continue;
      if (!oldest || cls.last_use < oldest->last_use) oldest = &cls, oldest_bytes = size;
    }
    if (!oldest) return;
    std::free(oldest->blocks.back());
    oldest->blocks.pop_back();
    p.cached -= oldest_bytes;
  }
}

}  // namespace

void* pool_allocate(size_t bytes) {
  {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    auto it = p.classes.find(bytes);
    if (it != p.classes.end() && !it->second.blocks.empty()) {
      void* block = it->second.blocks.back();
      it->second.blocks.pop_back();
      it->second.last_use = ++p.clock;
      p.cached -= bytes;
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
