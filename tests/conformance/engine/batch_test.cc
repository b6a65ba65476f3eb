// Write batches: order within a batch, and atomic visibility to concurrent readers.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "engine_fixture.h"

namespace tessera::conformance {
namespace {

using Batches = EngineTest;

TEST_F(Batches, EmptyBatchIsOk) {
  WriteBatch empty;
  EXPECT_TRUE(engine().write(WriteOptions{}, empty).is_ok());
  EXPECT_TRUE(engine().write(WriteOptions{.sync = true}, empty).is_ok());
  EXPECT_TRUE(scan({}).empty());
}

TEST_F(Batches, AllOperationsApply) {
  put("old", "x");
  WriteBatch batch;
  for (int i = 0; i < 100; ++i) batch.put("k" + std::to_string(1000 + i), std::to_string(i));
  batch.del("old");
  batch.del("never-there");
  write(batch);
  KeyValues all = scan({});
  ASSERT_EQ(all.size(), 100u);
  EXPECT_EQ(all.front(), (std::pair<Bytes, Bytes>("k1000", "0")));
  EXPECT_EQ(all.back(), (std::pair<Bytes, Bytes>("k1099", "99")));
  EXPECT_EQ(get("old"), std::nullopt);
}

TEST_F(Batches, LaterOperationOnTheSameKeyWins) {
  put("put-then-delete", "before");
  WriteBatch batch;
  batch.put("put-put", "first");
  batch.put("put-put", "second");
  batch.put("put-then-delete", "in batch");
  batch.del("put-then-delete");
  batch.del("delete-then-put");
  batch.put("delete-then-put", "survives");
  batch.put("flip", "1");
  batch.del("flip");
  batch.put("flip", "3");
  write(batch);
  EXPECT_EQ(get("put-put"), "second");
  EXPECT_EQ(get("put-then-delete"), std::nullopt);
  EXPECT_EQ(get("delete-then-put"), "survives");
  EXPECT_EQ(get("flip"), "3");
  EXPECT_EQ(scan({}),
            (KeyValues{{"delete-then-put", "survives"}, {"flip", "3"}, {"put-put", "second"}}));
}

TEST_F(Batches, SyncBatchIsVisible) {
  WriteBatch batch;
  batch.put("a", "1");
  batch.put("b", "2");
  write(batch, /*sync=*/true);
  EXPECT_EQ(scan({}), (KeyValues{{"a", "1"}, {"b", "2"}}));
}

// A writer rewrites a group of keys with one batch per generation: all put to the generation's
// number, or (every third generation) all deleted. A consistent view therefore holds either
// none of the group or all of it with one value. Readers check that through iterators and
// through gets at a snapshot, while the writer runs.
TEST_F(Batches, ReadersNeverSeeHalfABatch) {
  constexpr int kGroupKeys = 16;
  // The writer writes at least kGenerations batches, and goes on (within bounds) until the
  // readers have checked kViewsMin views: on a loaded machine a fast engine can finish all its
  // batches before a reader thread first runs.
  constexpr int kGenerations = 600;
  constexpr int kGenerationsMax = 200'000;
  constexpr int kViewsMin = 10;
  constexpr auto kWriterTimeMax = std::chrono::seconds(30);
  constexpr int kReaders = 2;
  constexpr int kReaderRoundsMax = 100000;  // bounds a reader if the writer stalls
  auto key_of = [](int i) { return "group/" + std::to_string(100 + i); };
  put("aaa-before", "x");  // neighbours outside the group, never touched
  put("zzz-after", "x");

  std::atomic<bool> done{false};
  std::atomic<int> views_checked{0};
  auto check_view = [&](const KeyValues& group, const char* how) {
    if (group.empty()) return true;
    bool ok = group.size() == kGroupKeys;
    for (const auto& entry : group) ok = ok && entry.second == group.front().second;
    EXPECT_TRUE(ok) << how << " saw half a batch: " << printable(group);
    return ok;
  };
  auto reader = [&] {
    for (int round = 0; round < kReaderRoundsMax && !done.load(); ++round) {
      std::unique_ptr<Snapshot> snapshot = engine().snapshot();
      KeyValues by_iterator = scan({.start = Bytes("group/"), .upper_bound = Bytes("group0")});
      KeyValues by_get;
      for (int i = 0; i < kGroupKeys; ++i) {
        std::optional<Bytes> value = get(key_of(i), snapshot.get());
        if (value) by_get.emplace_back(key_of(i), *value);
      }
      if (!check_view(by_iterator, "an iterator") || !check_view(by_get, "gets at a snapshot")) {
        return;
      }
      views_checked.fetch_add(1);
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) readers.emplace_back(reader);
  const auto writer_deadline = std::chrono::steady_clock::now() + kWriterTimeMax;
  int generation = 0;
  while (true) {
    ++generation;
    WriteBatch batch;
    for (int i = 0; i < kGroupKeys; ++i) {
      if (generation % 3 == 0) {
        batch.del(key_of(i));
      } else {
        batch.put(key_of(i), std::to_string(generation));
      }
    }
    write(batch);
    if (generation % 50 == 0) std::this_thread::yield();
    bool enough = generation >= kGenerations && views_checked.load() >= kViewsMin;
    bool out_of_bounds = generation >= kGenerationsMax ||
                         std::chrono::steady_clock::now() > writer_deadline;
    // Stop only after a put, so that the final state is known.
    if ((enough || out_of_bounds) && generation % 3 != 0) break;
  }
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_GT(views_checked.load(), 0);
  KeyValues group = scan({.start = Bytes("group/"), .upper_bound = Bytes("group0")});
  ASSERT_EQ(group.size(), static_cast<size_t>(kGroupKeys));
  EXPECT_TRUE(check_view(group, "the final view"));
  EXPECT_EQ(group.front().second, std::to_string(generation));
  EXPECT_EQ(get("aaa-before"), "x");
  EXPECT_EQ(get("zzz-after"), "x");
}

}  // namespace
}  // namespace tessera::conformance
