// Storage for RNS limbs: a std::vector whose elements are default-initialized (not zeroed) on resize, so that
// buffers that are about to be overwritten do not cost a memset (tens of MB per key switch at N = 2^16).
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace cryptounet::ckks {

template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
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
