// Storage for RNS limbs: a std::vector whose elements are default-initialized (not zeroed) on resize, so that
// buffers that are about to be overwritten do not cost a memset (tens of MB per key switch at N = 2^16), and whose
// large blocks (>= 1 MiB) come from a process-wide pool: every evaluator operation allocates and frees
// ciphertext-sized temporaries, and returning them to the kernel makes each call page-fault them in again (15-20 %
// of a key switch on bare metal, more in a VM). A request takes a cached block up to 1/8 larger than itself (the
// blocks of the last few levels serve the current one). Cached blocks are capped (kPoolCapBytes; the least recently
// used sizes are evicted first, so the cache follows the level a computation is at) and 64-byte aligned. The cap
// covers the temporaries of a key switch and of one output of a linear layer at the top level (~250 MiB at
// N = 2^16) with room; cached bytes count in the peak memory, so it is not larger. (2 MiB-aligned
// blocks with transparent huge pages were measured 15 % slower on key switching: equal alignment of every buffer.)
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace cryptounet::ckks {

inline constexpr size_t kPoolMinBytes = size_t{1} << 20;
inline constexpr size_t kPoolCapBytes = size_t{512} << 20;  // at most 512 MiB of free blocks kept
void* pool_allocate(size_t bytes);
void pool_deallocate(void* p, size_t bytes) noexcept;
size_t pool_cached_bytes();  // free bytes currently kept by the pool
void pool_release() noexcept;  // frees every cached block (a server going idle)

template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  T* allocate(size_t count) {
    const size_t bytes = count * sizeof(T);
    if (bytes >= kPoolMinBytes) return static_cast<T*>(pool_allocate(bytes));
    return std::allocator<T>::allocate(count);
  }
  void deallocate(T* p, size_t count) noexcept {
    const size_t bytes = count * sizeof(T);
    if (bytes >= kPoolMinBytes)
      pool_deallocate(p, bytes);
    else
      std::allocator<T>::deallocate(p, count);
  }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using LimbBuffer = std::vector<uint64_t, DefaultInitAllocator<uint64_t>>;

// Tag for constructors that leave the coefficients uninitialized (the caller overwrites every limb).
struct NoInit {};

}  // namespace cryptounet::ckks
