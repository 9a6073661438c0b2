// Observes the heap of a test binary by replacing the global operator new/delete (include this header in exactly one
// source file of a binary): the largest block requested while `track_largest` is set, and a copy of the contents of
// every block freed while `record_freed` is set, kept in an arena outside the heap so that a test can search freed
// memory afterwards for data that should have been wiped.
#pragma once

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>

namespace heap_probe {

inline std::atomic<bool> track_largest{false};
inline std::atomic<size_t> largest{0};
inline std::atomic<bool> record_freed{false};

// Freed blocks, back to back. Reserved once, pages are committed only as they are written.
class Arena {
 public:
  static constexpr size_t kCapacity = size_t{1} << 27;  // the hygiene test frees about 10 MB
  Arena() {
    void* p = ::mmap(nullptr, kCapacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  void append(const void* block, size_t bytes) noexcept {
    const size_t at = used_.fetch_add(bytes);
    if (!data_ || at + bytes > kCapacity) {
      overflow_ = true;
      return;
    }
    std::memcpy(data_ + at, block, bytes);
  }
  bool overflowed() const { return overflow_ || !data_; }
  // Whether `needle` occurs in the freed blocks recorded so far.
  bool contains(std::span<const std::byte> needle) const {
    const auto* begin = reinterpret_cast<const std::byte*>(data_);
    const auto* end = begin + std::min(used_.load(), kCapacity);
    return std::search(begin, end, needle.begin(), needle.end()) != end;
  }

 private:
  char* data_ = nullptr;
  std::atomic<size_t> used_{0};
  std::atomic<bool> overflow_{false};
};

inline Arena& freed() {
  static Arena* arena = new Arena();  // never destroyed: blocks are freed during static destruction
  return *arena;
}

}  // namespace heap_probe

namespace heap_probe {

inline void* allocate(size_t bytes) {
  if (track_largest) {
    size_t seen = largest;
    while (bytes > seen && !largest.compare_exchange_weak(seen, bytes)) {
    }
  }
  if (void* p = std::malloc(bytes ? bytes : 1)) return p;
  throw std::bad_alloc();
}

inline void release(void* p) noexcept {
  if (p && record_freed) freed().append(p, malloc_usable_size(p));
  std::free(p);
}

}  // namespace heap_probe

void* operator new(size_t bytes) { return heap_probe::allocate(bytes); }
void* operator new[](size_t bytes) { return heap_probe::allocate(bytes); }
void operator delete(void* p) noexcept { heap_probe::release(p); }
void operator delete[](void* p) noexcept { heap_probe::release(p); }
void operator delete(void* p, size_t) noexcept { heap_probe::release(p); }
void operator delete[](void* p, size_t) noexcept { heap_probe::release(p); }
