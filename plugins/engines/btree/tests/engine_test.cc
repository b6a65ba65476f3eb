// Engine-level behaviour the conformance suite does not pin down: group commit shares
// checkpoints between concurrent sync writers, and an old iterator keeps its exact view while
// the writer rewrites (and would like to reuse) every page it reads.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "btree_engine.h"
#include "test_util.h"

namespace tessera::btree {
namespace {

TEST(Engine, ConcurrentSyncWritersShareCheckpoints) {
  testing::TempDir dir;
  auto engine = BtreeEngine::open(dir.path(), BtreeOptions{});
  ASSERT_TRUE(engine.is_ok());
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        std::string k = "t" + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_TRUE((*engine)->put(WriteOptions{.sync = true}, k, k).is_ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EngineStats stats = (*engine)->stats();
  EXPECT_EQ(stats["keys"], kThreads * kWritesPerThread);
  EXPECT_EQ(stats["writes"], kThreads * kWritesPerThread);
  EXPECT_LT(stats["checkpoints"], kThreads * kWritesPerThread)
      << "queued sync writers are committed together";
  engine->reset();
  engine = BtreeEngine::open(dir.path(), BtreeOptions{});
  ASSERT_TRUE(engine.is_ok());
  EXPECT_EQ((*engine)->stats()["keys"], kThreads * kWritesPerThread);
}

TEST(Engine, PinnedIteratorKeepsItsViewThroughRewritesAndCheckpoints) {
  testing::TempDir dir;
  BtreeOptions options;
  options.page_bytes = 512;
  options.buffer_pool_bytes_max = 16 * 512;  // the iterator's pages get evicted and re-read
  auto engine = BtreeEngine::open(dir.path(), options);
  ASSERT_TRUE(engine.is_ok());
  auto fill = [&](char c) {
    WriteBatch batch;
    for (int i = 0; i < 500; ++i) batch.put("k" + std::to_string(1000 + i), std::string(40, c));
    ASSERT_TRUE((*engine)->write(WriteOptions{.sync = true}, batch).is_ok());
  };
  fill('a');
  auto it = (*engine)->new_iterator({});
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  int seen = 0;
  for (char c = 'b'; c <= 'k'; ++c) {
    fill(c);  // each round copies every leaf and checkpoints
    for (int step = 0; step < 50 && it->valid(); ++step, it->next()) {
      ASSERT_EQ(it->value(), std::string(40, 'a')) << "entry " << seen;
      ++seen;
    }
  }
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  EXPECT_EQ(seen, 500);
  EXPECT_GT((*engine)->stats()["pending_free_pages"], 0) << "the pinned pages wait for the iterator";
  it.reset();
  fill('z');
  auto got = (*engine)->get({}, "k1000");
  ASSERT_TRUE(got.is_ok() && got->has_value());
  EXPECT_EQ(**got, std::string(40, 'z'));
}

TEST(Engine, CleanCloseKeepsUnsyncedWrites) {
  testing::TempDir dir;
  {
    auto engine = BtreeEngine::open(dir.path(), BtreeOptions{});
    ASSERT_TRUE(engine.is_ok());
    ASSERT_TRUE((*engine)->put(WriteOptions{}, "a", "1").is_ok());
  }
  auto engine = BtreeEngine::open(dir.path(), BtreeOptions{});
  ASSERT_TRUE(engine.is_ok());
  auto got = (*engine)->get({}, "a");
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->value_or("-"), "1");
}

TEST(Engine, SecondOpenOfTheSameDirectoryIsBusy) {
  testing::TempDir dir;
  auto first = BtreeEngine::open(dir.path(), BtreeOptions{});
  ASSERT_TRUE(first.is_ok());
  auto second = BtreeEngine::open(dir.path(), BtreeOptions{});
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
}

}  // namespace
}  // namespace tessera::btree
