#include "ckks/buffer.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>

namespace cryptounet::ckks {

namespace {

struct Pool {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // by exact size
  size_t cached = 0;
};

Pool& pool() {
  static Pool* instance = new Pool();  // never destroyed: blocks may be freed during static destruction
  return *instance;
}

size_t aligned_size(size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

void* pool_allocate(size_t bytes) {
  {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    auto it = p.free_blocks.find(bytes);
    if (it != p.free_blocks.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
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
    if (p.cached + bytes <= kPoolCapBytes) {
      try {
        p.free_blocks[bytes].push_back(block);
        p.cached += bytes;
        return;
      } catch (...) {  // bookkeeping allocation failed: release the block instead
      }
    }
  }
  std::free(block);
}

void pool_release() noexcept {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  for (auto& [bytes, blocks] : p.free_blocks)
    for (void* block : blocks) std::free(block);
  p.free_blocks.clear();
  p.cached = 0;
}

size_t pool_cached_bytes() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.cached;
}

}  // namespace cryptounet::ckks
