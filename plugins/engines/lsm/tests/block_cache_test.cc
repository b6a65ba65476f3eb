#include "block_cache.h"

#include <gtest/gtest.h>

namespace tessera::lsm {
namespace {

std::shared_ptr<const Block> block_of(size_t bytes) {
  Bytes contents(bytes - 8, 'x');
  contents.append(Bytes("\0\0\0\0\1\0\0\0", 8));  // one restart at offset 0
  auto block = Block::parse(std::move(contents), "test");
  EXPECT_TRUE(block.is_ok());
  return *block;
}

TEST(BlockCache, HitsMissesAndCapacity) {
  BlockCache cache(16 * 4096);  // 16 shards of 4 KiB
  EXPECT_EQ(cache.lookup(1, 0), nullptr);
  auto block = block_of(1024);
  cache.insert(1, 0, block);
  EXPECT_EQ(cache.lookup(1, 0), block);
  EXPECT_EQ(cache.lookup(2, 0), nullptr);  // other file, same offset
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 2u);
  // Fill far past capacity: usage stays bounded.
  for (uint64_t offset = 0; offset < 1000 * 4096; offset += 4096) {
    cache.insert(3, offset, block_of(1024));
  }
  EXPECT_LE(cache.usage_bytes(), 16u * 4096);
  EXPECT_GT(cache.usage_bytes(), 0u);
}

TEST(BlockCache, EvictsLeastRecentlyUsedAndSkipsOversizeBlocks) {
  BlockCache cache(16 * 2048);         // 2 KiB per shard: two 1 KiB blocks per shard at most
  cache.insert(7, 0, block_of(4096));  // bigger than a shard: not cached
  EXPECT_EQ(cache.lookup(7, 0), nullptr);
  // A block in use stays alive for its holder after eviction.
  auto held = block_of(1024);
  cache.insert(8, 0, held);
  for (uint64_t offset = 4096; offset < 400 * 4096; offset += 4096) {
    cache.insert(8, offset, block_of(1024));
  }
  EXPECT_EQ(held->size(), 1024u);
  EXPECT_LE(cache.usage_bytes(), 16u * 2048);
}

}  // namespace
}  // namespace tessera::lsm
