// The shared raft log: writes and reads across segments and restarts, suffix overwrites,
// snapshots, compaction and segment deletion, the cache bound, one write() and one fdatasync
// per call, and argument checks.
#include <gtest/gtest.h>

#include <map>

#include "log_store/group_storage.h"
#include "test_util.h"

namespace tessera::raftlog {
namespace {

using namespace testing;

LogStoreOptions small_options(const fs::path& dir) {
  LogStoreOptions o;
  o.dir = dir;
  o.segment_bytes = 16 << 10;
  o.zero_fill_chunk_bytes = 4 << 10;
  o.cache_bytes_max = 32 << 10;
  return o;
}

// Checks that `store` holds exactly model[g] for every group (entries from first to last).
void expect_log(LogStore& store, GroupId g, const std::map<Index, Entry>& model) {
  ASSERT_TRUE(store.contains(g));
  Index first = *store.first_index(g);
  Index last = *store.last_index(g);
  ASSERT_EQ(last - first + 1, model.size()) << "group " << g;
  if (model.empty()) return;
  ASSERT_EQ(first, model.begin()->first);
  Index i = first;
  while (i <= last) {
    auto got = store.entries(g, i, last + 1, 4096);
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    ASSERT_FALSE(got->empty());
    for (const Entry& e : *got) {
      ASSERT_EQ(e, model.at(i)) << "group " << g << " index " << i;
      EXPECT_EQ(*store.term(g, i), e.term);
      ++i;
    }
  }
}

TEST(LogStore, WritesAndReadsBackAcrossSegmentsAndRestarts) {
  TempDir dir;
  LogStoreOptions options = small_options(dir.path());
  std::map<GroupId, std::map<Index, Entry>> model;
  std::map<GroupId, HardState> hard_states;
  {
    auto store = open_store(options);
    ASSERT_NE(store, nullptr);
    std::vector<GroupWrite> creates;
    for (GroupId g = 1; g <= 8; ++g)
      creates.push_back(create_write(g, "group-" + std::to_string(g)));
    ASSERT_TRUE(store->write(creates).is_ok());
    for (int round = 0; round < 60; ++round) {
      std::vector<std::vector<Entry>> batches(8);
      std::vector<GroupWrite> writes;
      for (GroupId g = 1; g <= 8; ++g) {
        Index next = *store->last_index(g) + 1;
        batches[g - 1] = make_entries(g, next, 1 + (round + g) % 3, 1 + round / 20);
        GroupWrite w = entries_write(g, batches[g - 1]);
        w.hard_state = HardState{Term(1 + round / 20), g, next};
        hard_states[g] = *w.hard_state;
        writes.push_back(w);
        for (const Entry& e : batches[g - 1]) model[g][e.index] = e;
      }
      ASSERT_TRUE(store->write(writes).is_ok());
    }
    EXPECT_GT(store->stats().segments_live, 3u);
    for (GroupId g = 1; g <= 8; ++g) expect_log(*store, g, model[g]);
  }
  for (int restart = 0; restart < 2; ++restart) {
    auto store = open_store(options);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(store->groups().size(), 8u);
    for (const GroupInfo& info : store->groups()) {
      EXPECT_EQ(info.name, "group-" + std::to_string(info.id));
      EXPECT_EQ(*store->hard_state(info.id), hard_states[info.id]);
      expect_log(*store, info.id, model[info.id]);
    }
    EXPECT_EQ(store->stats().cache_hits, 0u);  // all read back from disk
  }
}

TEST(LogStore, OverwritesASuffix) {
  TempDir dir;
  LogStoreOptions options = small_options(dir.path());
  std::map<Index, Entry> model;
  {
    auto store = open_store(options);
    ASSERT_TRUE(store->write(std::vector{create_write(1, "a")}).is_ok());
    auto first = make_entries(1, 1, 100, 1);  // several segments
    for (size_t i = 0; i < first.size(); i += 10) {
      std::vector<Entry> part(first.begin() + i, first.begin() + i + 10);
      ASSERT_TRUE(store->write(std::vector{entries_write(1, part)}).is_ok());
    }
    for (const Entry& e : first) model[e.index] = e;
    // A new leader's entries replace 41.. (in an older segment than the tail).
    auto second = make_entries(1, 41, 5, 2, /*salt=*/1);
    ASSERT_TRUE(store->write(std::vector{entries_write(1, second)}).is_ok());
    model.erase(model.lower_bound(41), model.end());
    for (const Entry& e : second) model[e.index] = e;
    EXPECT_EQ(*store->last_index(1), 45u);
    expect_log(*store, 1, model);
    auto runs = store->term_runs(1);
    ASSERT_EQ(runs->size(), 2u);
    EXPECT_EQ((*runs)[1], (TermRun{41, 2}));
    // And again at the very end.
    auto third = make_entries(1, 45, 1, 3, /*salt=*/2);
    ASSERT_TRUE(store->write(std::vector{entries_write(1, third)}).is_ok());
    model[45] = third[0];
    expect_log(*store, 1, model);
  }
  auto store = open_store(options);
  expect_log(*store, 1, model);
  EXPECT_EQ(*store->term(1, 44), 2u);
  EXPECT_EQ(*store->term(1, 45), 3u);
  EXPECT_EQ(store->term_runs(1)->size(), 3u);
}

TEST(LogStore, SnapshotStartKeepsAMatchingSuffixAndDropsAConflictingLog) {
  TempDir dir;
  LogStoreOptions options = small_options(dir.path());
  auto store = open_store(options);
  ASSERT_TRUE(store->write(std::vector{create_write(1, "a")}).is_ok());
  auto entries = make_entries(1, 1, 20, 3);
  ASSERT_TRUE(store->write(std::vector{entries_write(1, entries)}).is_ok());
  GroupWrite keep;
  keep.group = 1;
  keep.start = SnapshotMeta{10, 3, {{1, 2, 3}, {4}}};
  ASSERT_TRUE(store->write(std::vector{keep}).is_ok());
  EXPECT_EQ(*store->first_index(1), 11u);
  EXPECT_EQ(*store->last_index(1), 20u);
  EXPECT_EQ(*store->term(1, 10), 3u);
  GroupWrite drop;
  drop.group = 1;
  drop.start = SnapshotMeta{15, 4, {{1, 2}, {}}};  // term differs: the log is replaced
  auto after = make_entries(1, 16, 2, 4);
  drop.entries = after;
  ASSERT_TRUE(store->write(std::vector{drop}).is_ok());
  EXPECT_EQ(*store->first_index(1), 16u);
  EXPECT_EQ(*store->last_index(1), 17u);
  store.reset();
  store = open_store(options);
  EXPECT_EQ(*store->first_index(1), 16u);
  EXPECT_EQ(*store->last_index(1), 17u);
  auto start = *store->start(1);
  EXPECT_EQ(start.index, 15u);
  EXPECT_EQ(start.term, 4u);
  EXPECT_EQ(start.conf, (ConfState{{1, 2}, {}}));
  EXPECT_EQ((*store->entries(1, 16, 18, 1 << 20)), after);
  // A snapshot beyond the log: everything goes, the log continues after it.
  GroupWrite beyond;
  beyond.group = 1;
  beyond.start = SnapshotMeta{100, 5, {{1}, {}}};
  ASSERT_TRUE(store->write(std::vector{beyond}).is_ok());
  EXPECT_EQ(*store->first_index(1), 101u);
  EXPECT_EQ(*store->last_index(1), 100u);
}

TEST(LogStore, CompactionDeletesSegmentsAndIdleGroupsKeepTheirMetadata) {
  TempDir dir;
  LogStoreOptions options = small_options(dir.path());
  const SnapshotMeta idle_start{7, 2, {{1, 2, 3}, {9}}};
  const HardState idle_hs{5, 3, 7};
  std::map<Index, Entry> model;
  {
    auto store = open_store(options);
    // The idle group: created, given a start point and a hard state, then never written again.
    GroupWrite idle = create_write(42, "idle-group");
    idle.start = idle_start;
    idle.hard_state = idle_hs;
    ASSERT_TRUE(store->write(std::vector{idle, create_write(1, "busy")}).is_ok());
    for (int round = 0; round < 400; ++round) {
      Index next = *store->last_index(1) + 1;
      auto batch = make_entries(1, next, 4, 1);
      ASSERT_TRUE(store->write(std::vector{entries_write(1, batch)}).is_ok());
      for (const Entry& e : batch) model[e.index] = e;
      if (round % 10 == 9) {
        Index applied = next - 20;
        ASSERT_TRUE(store->compact(1, applied, ConfState{{1}, {}}).is_ok());
        model.erase(model.begin(), model.upper_bound(applied));
      }
    }
    LogStoreStats stats = store->stats();
    EXPECT_GT(stats.segments_created, 10u);
    EXPECT_GT(stats.segments_deleted, 8u);
    EXPECT_LE(stats.segments_live, 4u) << "GC does not keep up";
    EXPECT_LE(segment_files(dir.path()).size(), 4u);
    EXPECT_GT(stats.segment_first, 1u);
    expect_log(*store, 1, model);
  }
  auto store = open_store(options);
  ASSERT_TRUE(store->contains(42));
  EXPECT_EQ(*store->hard_state(42), idle_hs);
  SnapshotMeta start = *store->start(42);
  EXPECT_EQ(start.index, idle_start.index);
  EXPECT_EQ(start.term, idle_start.term);
  EXPECT_EQ(start.conf, idle_start.conf);
  EXPECT_EQ(*store->first_index(42), 8u);
  EXPECT_EQ(*store->last_index(42), 7u);
  EXPECT_EQ(store->groups()[1].name, "idle-group");
  expect_log(*store, 1, model);
  EXPECT_EQ(store->start(1)->conf, (ConfState{{1}, {}}));
  // Compaction below the start does nothing; beyond the log is refused.
  EXPECT_TRUE(store->compact(1, 1, {}).is_ok());
  EXPECT_EQ(store->compact(1, *store->last_index(1) + 1, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->compact(77, 1, {}).code(), StatusCode::kNotFound);
}

// A group that writes five entries and is never compacted (its state machine never gets to a
// compaction threshold), beside a busy group that compacts as it goes.
// *written counts rounds across calls, so that calls of one round each still compact.
void write_cold_and_busy(LogStore& store, const std::vector<Entry>& cold, int rounds,
                         std::map<Index, Entry>* busy_model, int* written) {
  if (!store.contains(7)) {
    GroupWrite w = create_write(7, "cold");
    w.entries = cold;
    ASSERT_TRUE(store.write(std::vector{w, create_write(1, "busy")}).is_ok());
  }
  for (int round = 0; round < rounds; ++round) {
    Index next = *store.last_index(1) + 1;
    auto batch = make_entries(1, next, 4, 1);
    ASSERT_TRUE(store.write(std::vector{entries_write(1, batch)}).is_ok());
    for (const Entry& e : batch) (*busy_model)[e.index] = e;
    if (++*written % 10 == 0) {
      ASSERT_TRUE(store.compact(1, next - 20, {}).is_ok());
      busy_model->erase(busy_model->begin(), busy_model->upper_bound(next - 20));
    }
  }
}

TEST(LogStore, SmallLogsThatPinTheOldestSegmentAreRewrittenSoSegmentsCanGo) {
  TempDir dir;
  LogStoreOptions options = small_options(dir.path());
  options.rewrite_bytes_per_write_max = 0;  // first, collect_garbage() alone
  auto cold = make_entries(7, 1, 5, 3);
  std::map<Index, Entry> busy_model;
  int written = 0;
  {
    auto store = open_store(options);
    write_cold_and_busy(*store, cold, 300, &busy_model, &written);
    EXPECT_EQ(store->stats().segment_first, 1u) << "the cold group pins the first segment";
    EXPECT_GT(store->stats().segments_live, 8u);
    ASSERT_TRUE(store->collect_garbage().is_ok());
    LogStoreStats stats = store->stats();
    EXPECT_EQ(stats.rewritten_entries, 5u);
    EXPECT_LE(stats.segments_live, 3u);
    EXPECT_GT(stats.segment_first, 1u);
    EXPECT_EQ(*store->entries(7, 1, 6, 1 << 20), cold);
  }
  {
    // Then synced writes alone: they carry the cold log forward as segments fill up.
    auto store = open_store(small_options(dir.path()));
    EXPECT_EQ(*store->entries(7, 1, 6, 1 << 20), cold);
    for (int i = 0; i < 10; ++i) {
      write_cold_and_busy(*store, cold, 30, &busy_model, &written);
      EXPECT_LE(store->stats().segments_live, uint64_t{kRewriteSegmentsMin} + 1);
    }
    EXPECT_GT(store->stats().rewritten_entries, 5u);
    EXPECT_GT(store->stats().segments_deleted, 5u);
    // A write that carries a log forward is still one write() and one fdatasync.
    int carried = 0;
    for (int round = 0; round < 300 && carried < 3; ++round) {
      const LogStoreStats before = store->stats();
      write_cold_and_busy(*store, cold, 1, &busy_model, &written);
      const LogStoreStats after = store->stats();
      if (after.rewritten_entries == before.rewritten_entries ||
          after.segments_created != before.segments_created) {
        continue;
      }
      ++carried;
      EXPECT_EQ(after.fsyncs - before.fsyncs, 1u);
      EXPECT_EQ(after.write_syscalls - before.write_syscalls, 1u);
    }
    EXPECT_EQ(carried, 3);
  }
  auto store = open_store(options);
  EXPECT_EQ(*store->entries(7, 1, 6, 1 << 20), cold);
  EXPECT_EQ(store->term_runs(7)->size(), 1u);
  expect_log(*store, 1, busy_model);
}

TEST(LogStore, CacheStaysWithinItsBoundAndReadsComeBackFromDisk) {
  TempDir dir;
  LogStoreOptions options;
  options.dir = dir.path();
  options.segment_bytes = 1 << 20;
  options.cache_bytes_max = 64 << 10;
  auto store = open_store(options);
  std::vector<GroupWrite> creates;
  for (GroupId g = 1; g <= 4; ++g) creates.push_back(create_write(g, "g"));
  ASSERT_TRUE(store->write(creates).is_ok());
  uint64_t data_bytes = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::vector<Entry>> batches(4);
    std::vector<GroupWrite> writes;
    for (GroupId g = 1; g <= 4; ++g) {
      batches[g - 1] = make_entries(g, *store->last_index(g) + 1, 2, 1, 0, 800);
      for (const Entry& e : batches[g - 1]) data_bytes += e.data.size();
      writes.push_back(entries_write(g, batches[g - 1]));
    }
    ASSERT_TRUE(store->write(writes, /*sync=*/false).is_ok());
    ASSERT_LE(store->stats().cache_bytes, options.cache_bytes_max);
  }
  ASSERT_TRUE(store->sync().is_ok());
  LogStoreStats stats = store->stats();
  EXPECT_GT(data_bytes, 100 * options.cache_bytes_max);
  EXPECT_EQ(stats.index_entries, 16000u);
  // The index costs a few bytes per entry, the data stays on disk.
  EXPECT_LE(stats.index_bytes, 16 * stats.index_entries);
  for (GroupId g = 1; g <= 4; ++g) {
    Index i = 1;
    while (i <= 4000) {
      auto got = store->entries(g, i, 4001, 64 << 10);
      ASSERT_TRUE(got.is_ok()) << got.status().to_string();
      for (const Entry& e : *got) {
        ASSERT_EQ(e.index, i);
        ASSERT_EQ(e.data, entry_data(g, i, 0, 800));
        ++i;
      }
      ASSERT_LE(store->stats().cache_bytes, options.cache_bytes_max);
    }
  }
  stats = store->stats();
  EXPECT_GT(stats.cache_misses, 15000u);
  // Entries next to each other on disk (the two of one write) come back in one pread.
  EXPECT_LE(stats.disk_reads, stats.cache_misses / 2 + 100);
}

TEST(LogStore, ReadsHonourTheByteBoundAndTheRange) {
  TempDir dir;
  auto store = open_store(small_options(dir.path()));
  ASSERT_TRUE(store->write(std::vector{create_write(1, "a")}).is_ok());
  auto entries = make_entries(1, 1, 10, 1, 0, 0);  // 20 bytes each
  ASSERT_TRUE(store->write(std::vector{entries_write(1, entries)}).is_ok());
  EXPECT_EQ(store->entries(1, 1, 11, 0)->size(), 1u);  // always at least one
  EXPECT_EQ(store->entries(1, 1, 11, 60)->size(), 3u);
  EXPECT_EQ(store->entries(1, 3, 3, 60)->size(), 0u);
  EXPECT_EQ(store->entries(1, 0, 3, 60).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->entries(1, 5, 12, 60).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->entries(2, 1, 2, 60).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->term(1, 11).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*store->term(1, 0), 0u);  // the start point of a fresh group
}

TEST(LogStore, OneWriteSyscallAndOneFsyncPerCallAcrossEightGroups) {
  TempDir dir;
  LogStoreOptions options;
  options.dir = dir.path();
  auto store = open_store(options);
  std::vector<GroupWrite> creates;
  for (GroupId g = 1; g <= 8; ++g) creates.push_back(create_write(g, "g" + std::to_string(g)));
  ASSERT_TRUE(store->write(creates).is_ok());
  const LogStoreStats before = store->stats();
  constexpr int kCalls = 50;
  for (int call = 0; call < kCalls; ++call) {
    std::vector<std::vector<Entry>> batches(8);
    std::vector<GroupWrite> writes;
    for (GroupId g = 1; g <= 8; ++g) {
      Index next = *store->last_index(g) + 1;
      batches[g - 1] = make_entries(g, next, 3, 1, 0, 0);
      for (auto& e : batches[g - 1]) e.data.resize(100, 'x');
      GroupWrite w = entries_write(g, batches[g - 1]);
      w.hard_state = HardState{1, 1, next};
      writes.push_back(w);
    }
    ASSERT_TRUE(store->write(writes).is_ok());
  }
  const LogStoreStats after = store->stats();
  EXPECT_EQ(after.write_calls - before.write_calls, uint64_t{kCalls});
  EXPECT_EQ(after.fsyncs - before.fsyncs, uint64_t{kCalls});
  EXPECT_EQ(after.write_syscalls - before.write_syscalls, uint64_t{kCalls});
  EXPECT_EQ(after.dir_syncs, before.dir_syncs);
  // Compactions ride along with the next write: still one write() and one fsync.
  for (GroupId g = 1; g <= 8; ++g) ASSERT_TRUE(store->compact(g, 10, {}).is_ok());
  auto e = make_entries(1, *store->last_index(1) + 1, 1, 1);
  ASSERT_TRUE(store->write(std::vector{entries_write(1, e)}).is_ok());
  EXPECT_EQ(store->stats().fsyncs - after.fsyncs, 1u);
  EXPECT_EQ(store->stats().write_syscalls - after.write_syscalls, 1u);
}

TEST(LogStore, UnsyncedWritesAreSyncedByOneLaterSync) {
  TempDir dir;
  LogStoreOptions options = small_options(dir.path());
  std::vector<Entry> all;
  {
    auto store = open_store(options);
    ASSERT_TRUE(store->write(std::vector{create_write(1, "a")}).is_ok());
    const LogStoreStats before = store->stats();
    for (int i = 0; i < 10; ++i) {
      auto e = make_entries(1, *store->last_index(1) + 1, 2, 1);
      ASSERT_TRUE(store->write(std::vector{entries_write(1, e)}, /*sync=*/false).is_ok());
      all.insert(all.end(), e.begin(), e.end());
    }
    EXPECT_EQ(store->stats().fsyncs, before.fsyncs);
    ASSERT_TRUE(store->sync().is_ok());
    EXPECT_EQ(store->stats().fsyncs, before.fsyncs + 1);
    ASSERT_TRUE(store->sync().is_ok());  // nothing new: no fsync
    ASSERT_TRUE(store->write({}, /*sync=*/true).is_ok());
    EXPECT_EQ(store->stats().fsyncs, before.fsyncs + 1);
  }
  auto store = open_store(options);
  EXPECT_EQ(*store->entries(1, 1, 21, 1 << 20), all);
}

TEST(LogStore, RefusesBadWritesWithoutWritingAnything) {
  TempDir dir;
  auto store = open_store(small_options(dir.path()));
  ASSERT_TRUE(store->write(std::vector{create_write(1, "a")}).is_ok());
  auto entries = make_entries(1, 1, 5, 2);
  ASSERT_TRUE(store->write(std::vector{entries_write(1, entries)}).is_ok());
  const uint64_t bytes = store->stats().bytes_written;
  auto gap = make_entries(1, 7, 1, 2);
  auto zero = make_entries(1, 0, 1, 2);
  auto other = make_entries(2, 1, 1, 2);
  auto lower_term = make_entries(1, 6, 2, 2);
  lower_term[1].term = 1;
  auto expect_refused = [&](std::vector<GroupWrite> writes, StatusCode code) {
    Status s = store->write(writes);
    EXPECT_EQ(s.code(), code) << s.to_string();
  };
  expect_refused({entries_write(1, gap)}, StatusCode::kInvalidArgument);
  expect_refused({entries_write(1, zero)}, StatusCode::kInvalidArgument);
  expect_refused({entries_write(1, lower_term)}, StatusCode::kInvalidArgument);
  expect_refused({entries_write(2, other)}, StatusCode::kNotFound);
  expect_refused({create_write(1, "again")}, StatusCode::kInvalidArgument);
  expect_refused({create_write(3, std::string(kGroupNameBytesMax + 1, 'n'))},
                 StatusCode::kInvalidArgument);
  auto six = make_entries(1, 6, 1, 2);
  expect_refused({entries_write(1, six), entries_write(1, six)},
                 StatusCode::kInvalidArgument);  // the same group twice
  GroupWrite backwards;
  backwards.group = 1;
  backwards.start = SnapshotMeta{3, 2, {}};
  ASSERT_TRUE(store->write(std::vector{backwards}).is_ok());
  backwards.start = SnapshotMeta{2, 2, {}};
  expect_refused({backwards}, StatusCode::kInvalidArgument);
  GroupWrite remove_and_write = entries_write(1, six);
  remove_and_write.remove = true;
  expect_refused({remove_and_write}, StatusCode::kInvalidArgument);
  EXPECT_GT(store->stats().bytes_written, bytes);  // only the valid start
  EXPECT_EQ(*store->last_index(1), 5u);
}

TEST(LogStore, RemovedGroupsStayRemovedAndCanBeCreatedAgain) {
  TempDir dir;
  LogStoreOptions options = small_options(dir.path());
  {
    auto store = open_store(options);
    ASSERT_TRUE(store->write(std::vector{create_write(1, "a"), create_write(2, "b")}).is_ok());
    auto e1 = make_entries(1, 1, 3, 1);
    auto e2 = make_entries(2, 1, 3, 1);
    ASSERT_TRUE(store->write(std::vector{entries_write(1, e1), entries_write(2, e2)}).is_ok());
    GroupWrite remove;
    remove.group = 1;
    remove.remove = true;
    ASSERT_TRUE(store->write(std::vector{remove}).is_ok());
    EXPECT_FALSE(store->contains(1));
    ASSERT_TRUE(store->write(std::vector{create_write(1, "a2")}).is_ok());
    EXPECT_EQ(*store->last_index(1), 0u);
    // Fill segments so that the removal is only implied by the checkpoints.
    for (int i = 0; i < 200; ++i) {
      auto e = make_entries(2, *store->last_index(2) + 1, 2, 1);
      ASSERT_TRUE(store->write(std::vector{entries_write(2, e)}).is_ok());
    }
    remove.group = 1;
    ASSERT_TRUE(store->write(std::vector{remove}).is_ok());
    ASSERT_TRUE(store->compact(2, 300, {}).is_ok());
    ASSERT_TRUE(store->collect_garbage().is_ok());
  }
  auto store = open_store(options);
  EXPECT_FALSE(store->contains(1));
  ASSERT_EQ(store->groups().size(), 1u);
  EXPECT_EQ(store->groups()[0].name, "b");
  EXPECT_EQ(*store->first_index(2), 301u);
  EXPECT_EQ(*store->last_index(2), 403u);
}

TEST(LogStore, DurableStateAndGroupStorageComeFromTheLogAfterARestart) {
  TempDir dir;
  LogStoreOptions options = small_options(dir.path());
  auto entries = make_entries(3, 1, 30, 1);
  for (Index i : {4, 12, 25}) {
    entries[i - 1].type = raft::EntryType::kConfChange;
    entries[i - 1].data = "conf-" + std::to_string(i);
  }
  for (Index i = 20; i <= 30; ++i) entries[i - 1].term = 2;
  {
    auto store = open_store(options);
    GroupWrite w = create_write(3, "g3");
    w.entries = entries;
    w.hard_state = HardState{2, 1, 28};
    ASSERT_TRUE(store->write(std::vector{w}).is_ok());
    ASSERT_TRUE(store->compact(3, 10, ConfState{{1, 2, 3}, {}}).is_ok());
    // A new leader replaces 26..30: the configuration entry 25 stays, nothing after it.
    auto tail = make_entries(3, 26, 2, 3);
    ASSERT_TRUE(store->write(std::vector{entries_write(3, tail)}).is_ok());
    entries.resize(25);
    entries.insert(entries.end(), tail.begin(), tail.end());
  }
  auto store = open_store(options);
  GroupStorage storage(store.get(), 3);
  auto state = durable_state(*store, 3, 20, &storage);
  ASSERT_TRUE(state.is_ok()) << state.status().to_string();
  EXPECT_EQ(state->hard_state, (HardState{2, 1, 28}));
  EXPECT_EQ(state->snapshot, (SnapshotMeta{10, 1, ConfState{{1, 2, 3}, {}}}));
  EXPECT_EQ(state->applied, 20u);
  EXPECT_EQ(state->last_index, 27u);
  EXPECT_EQ(state->term_runs, (std::vector<TermRun>{{11, 1}, {20, 2}, {26, 3}}));
  ASSERT_EQ(state->conf_entries.size(), 2u);
  EXPECT_EQ(state->conf_entries[0], entries[11]);
  EXPECT_EQ(state->conf_entries[1], entries[24]);
  EXPECT_EQ(state->storage, &storage);
  auto read = storage.entries(11, 28, 1 << 20);
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(*read, std::vector<Entry>(entries.begin() + 10, entries.end()));
  EXPECT_EQ(durable_state(*store, 3, 9, &storage).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(durable_state(*store, 3, 28, &storage).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(durable_state(*store, 4, 0, &storage).status().code(), StatusCode::kNotFound);
}

TEST(LogStore, SecondOpenOfTheSameDirectoryIsBusy) {
  TempDir dir;
  auto store = open_store(small_options(dir.path()));
  auto second = LogStore::open(small_options(dir.path()));
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
}

TEST(LogStoreRecord, MalformedPayloadsAreCorruptionNeverACrash) {
  std::mt19937_64 rng(7);
  Bytes valid;
  std::vector<EntrySpan> spans;
  auto entries = make_entries(1, 5, 3, 2);
  append_entries(&valid, 9, entries, &spans);
  append_group_state(&valid, RecordKind::kGroupState, 9,
                     GroupMeta{"name", {1, 2, 3}, {4, 5, {{1, 2}, {3}}}});
  append_start(&valid, 9, {4, 5, {{1}, {}}}, true);
  append_hard_state(&valid, 9, {1, 2, 3});
  append_checkpoint_end(&valid, 3);
  // Split back into payloads.
  std::vector<Bytes> payloads;
  for (size_t at = 0; at < valid.size();) {
    uint32_t n = static_cast<uint8_t>(valid[at]) | static_cast<uint8_t>(valid[at + 1]) << 8 |
                 static_cast<uint8_t>(valid[at + 2]) << 16;
    payloads.push_back(valid.substr(at + kRecordHeaderBytes, n));
    at += kRecordHeaderBytes + n;
  }
  ASSERT_EQ(payloads.size(), 5u);
  for (const Bytes& p : payloads) {
    Record r;
    ASSERT_TRUE(decode_record(p, &r).is_ok());
  }
  int refused = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes p = payloads[rng() % payloads.size()];
    switch (rng() % 4) {
      case 0:
        p.resize(rng() % (p.size() + 1));
        break;
      case 1:
        p[rng() % p.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 2:  // a huge count or length somewhere
        for (int k = 0; k < 4 && p.size() > 4; ++k) p[rng() % p.size()] = '\xff';
        break;
      default:
        p.resize(rng() % 64);
        for (auto& c : p) c = static_cast<char>(rng());
    }
    Record r;
    Status s = decode_record(p, &r);
    if (!s.is_ok()) {
      ++refused;
      EXPECT_EQ(s.code(), StatusCode::kCorruption);
    }
    EXPECT_LE(r.entries.size(), p.size());
  }
  EXPECT_GT(refused, 10000);
}

}  // namespace
}  // namespace tessera::raftlog
