// FreeList rules, and page reuse through the engine: a working set that is rewritten over and
// over keeps the file from growing.
#include "free_list.h"

#include <gtest/gtest.h>

#include "btree_engine.h"
#include "test_util.h"

namespace tessera::btree {
namespace {

TEST(FreeList, AllocatesLowestReusableThenExtends) {
  FreeList list({5, 3}, 10);
  EXPECT_EQ(list.allocate(), 3u);
  EXPECT_EQ(list.allocate(), 5u);
  EXPECT_EQ(list.allocate(), 10u);
  EXPECT_EQ(list.page_count(), 11u);
}

TEST(FreeList, PendingPagesWaitForTheHorizon) {
  FreeList list({}, 10);
  list.release(4, 7);
  list.release(6, 8);
  EXPECT_TRUE(list.reclaim(6).empty());
  EXPECT_EQ(list.reclaim(7), std::vector<PageId>{4});
  EXPECT_EQ(list.pending_count(), 1u);
  EXPECT_EQ(list.allocate(), 4u);
  EXPECT_EQ(list.allocate(), 10u) << "page 6 is still pending";
  EXPECT_EQ(list.reclaim(100), std::vector<PageId>{6});
  EXPECT_EQ(list.allocate(), 6u);
}

TEST(FreeList, EngineReusesPagesOfRewrittenData) {
  testing::TempDir dir;
  BtreeOptions options;
  options.page_bytes = 512;
  options.buffer_pool_bytes_max = 64 * 512;
  auto engine = BtreeEngine::open(dir.path(), options);
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  auto round = [&](int r) {
    WriteBatch batch;
    for (int i = 0; i < 200; ++i) {
      batch.put("key" + std::to_string(i), std::string(100 + r % 7, static_cast<char>('a' + r)));
    }
    batch.put("big", std::string(5000, static_cast<char>('A' + r)));  // an overflow chain
    ASSERT_TRUE((*engine)->write(WriteOptions{.sync = true}, batch).is_ok());
  };
  for (int r = 0; r < 5; ++r) round(r);
  double pages_after_warmup = (*engine)->stats()["pages"];
  for (int r = 5; r < 60; ++r) round(r);
  EngineStats stats = (*engine)->stats();
  EXPECT_LE(stats["pages"], pages_after_warmup * 1.5)
      << "rewriting the same keys must reuse freed pages, not grow the file";
  EXPECT_GT(stats["free_pages"] + stats["pending_free_pages"], 0);
  // Deleting everything returns the pages: after a reopen, almost all of them are free.
  WriteBatch clear;
  for (int i = 0; i < 200; ++i) clear.del("key" + std::to_string(i));
  clear.del("big");
  ASSERT_TRUE((*engine)->write(WriteOptions{.sync = true}, clear).is_ok());
  engine->reset();
  engine = BtreeEngine::open(dir.path(), options);
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  stats = (*engine)->stats();
  EXPECT_EQ(stats["keys"], 0);
  EXPECT_EQ(stats["free_pages"], stats["pages"] - 2) << "an empty tree uses no page";
}

}  // namespace
}  // namespace tessera::btree
