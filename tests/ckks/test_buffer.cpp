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
    const size_t count = (size_t{64} << 20) / sizeof(uint64_t);  // 64 MiB each, 20 of them: 1.25 GiB, more than the cap
    for (int i = 0; i < 20; ++i) blocks.emplace_back(count);
  }
  EXPECT_LE(pool_cached_bytes(), kPoolCapBytes);
  EXPECT_GT(pool_cached_bytes(), 0u);
  pool_release();
  EXPECT_EQ(pool_cached_bytes(), 0u);
}

TEST(BufferPool, TheLeastRecentlyUsedSizeMakesRoomForTheCurrentOne) {
  pool_release();
  const size_t old_count = (size_t{64} << 20) / sizeof(uint64_t);  // 64 MiB blocks until the cap is full
  {
    std::vector<LimbBuffer> old_level;
    for (size_t i = 0; i < kPoolCapBytes / (old_count * sizeof(uint64_t)); ++i) old_level.emplace_back(old_count);
  }
  EXPECT_EQ(pool_cached_bytes(), kPoolCapBytes);
  const size_t new_count = (size_t{48} << 20) / sizeof(uint64_t);  // a lower level: fewer limbs
  const uint64_t* new_data = nullptr;
  {
    LimbBuffer current(new_count);
    new_data = current.data();
  }
  EXPECT_LE(pool_cached_bytes(), kPoolCapBytes);
  {
    LimbBuffer again(new_count);  // cached although the cap was full of the other size
    EXPECT_EQ(again.data(), new_data);
  }
  pool_release();
}

TEST(BufferPool, ASlightlySmallerRequestReusesACachedBlockAndReturnsItWhole) {
  pool_release();
  const size_t level_24 = (size_t{24} << 20) / sizeof(uint64_t), level_23 = (size_t{23} << 20) / sizeof(uint64_t);
  const uint64_t* first_data = nullptr;
  {
    LimbBuffer a(level_24);
    first_data = a.data();
  }
  {
    LimbBuffer b(level_23);  // one limb fewer: served by the 24 MiB block
    EXPECT_EQ(b.data(), first_data);
    EXPECT_EQ(pool_cached_bytes(), 0u);
  }
  EXPECT_EQ(pool_cached_bytes(), level_24 * sizeof(uint64_t));  // back under its real size
  {
    LimbBuffer c(level_24 / 2);  // far smaller: a fresh block, the cached one stays
    EXPECT_NE(c.data(), first_data);
  }
  pool_release();
}

}  // namespace
}  // namespace cryptounet::ckks
