// The buffer pool behind LimbBuffer: large blocks are reused, small ones are not pooled, release empties it.
#include "ckks/buffer.h"

#include <gtest/gtest.h>

namespace cryptounet::ckks {
namespace {

TEST(BufferPool, LargeBlocksAreReusedAndReleased) {
  pool_release();
  const size_t count = (kPoolMinBytes / sizeof(uint64_t)) * 3;  // 3 MiB: pooled
  const uint64_t* first_data = nullptr;
  {
    LimbBuffer a(count);
    first_data = a.data();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first_data) % 64, 0u);
    EXPECT_EQ(pool_cached_bytes(), 0u);
  }
  EXPECT_EQ(pool_cached_bytes(), count * sizeof(uint64_t));
  {
    LimbBuffer b(count);
    EXPECT_EQ(b.data(), first_data);  // the cached block comes back
    EXPECT_EQ(pool_cached_bytes(), 0u);
    LimbBuffer small(16);  // below kPoolMinBytes: the ordinary allocator
  }
  EXPECT_EQ(pool_cached_bytes(), count * sizeof(uint64_t));
  pool_release();
  EXPECT_EQ(pool_cached_bytes(), 0u);
}

TEST(BufferPool, CachedBytesStayUnderTheCap) {
  pool_release();
  {
    std::vector<LimbBuffer> blocks;
    const size_t count = (size_t{64} << 20) / sizeof(uint64_t);  // 64 MiB each, 20 of them: 1.25 GiB > cap
    for (int i = 0; i < 20; ++i) blocks.emplace_back(count);
  }
  EXPECT_LE(pool_cached_bytes(), kPoolCapBytes);
  EXPECT_GT(pool_cached_bytes(), 0u);
  pool_release();
  EXPECT_EQ(pool_cached_bytes(), 0u);
}

}  // namespace
}  // namespace cryptounet::ckks
