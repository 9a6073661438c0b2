// Storage for secret material: the secret key, its copies and every temporary derived from it or from the
// randomness of key generation and encryption (ternary samples, errors, s^2, permuted secrets, serialized bytes).
// The allocator wipes a block with sodium_memzero before returning it to the system allocator, so no secret
// outlives its owner in freed heap memory (also when a vector reallocates). These blocks never go through the
// LimbBuffer pool (buffer.h), whose recycled blocks are handed to other buffers unwiped.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace cryptounet::ckks {

// Overwrites `bytes` bytes at `data` with zeros; never optimized away (sodium_memzero).
void wipe(void* data, size_t bytes) noexcept;

template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(size_t count) { return std::allocator<T>().allocate(count); }
  void deallocate(T* p, size_t count) noexcept {
    wipe(p, count * sizeof(T));
    std::allocator<T>().deallocate(p, count);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using SecretVector = std::vector<T, WipingAllocator<T>>;

}  // namespace cryptounet::ckks
