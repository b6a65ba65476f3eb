// Unit tests of the core's bounded memory and its restart and snapshot contract: terms kept as
// runs, a bounded cache of persisted entries with the rest read through LogStorage, storage
// read errors skipped and retried, restart from the state machine's durable applied index,
// metadata-only snapshots at the leader's applied index, and committed entries in bounded
// batches.
#include <gtest/gtest.h>

#include <string>

#include "hand_group.h"
#include "raft/log.h"
#include "raft/memory_storage.h"
#include "raft/raft.h"

namespace tessera::raft {
namespace {

using testutil::entries;
using testutil::FlakyStorage;
using testutil::Group;

// `n` persisted entries, term 1 + (i - 1) / per_term.
std::vector<Entry> terms_by_run(Index n, Index per_term) {
  std::vector<Entry> out;
  for (Index i = 1; i <= n; ++i) {
    out.push_back(Entry{1 + (i - 1) / per_term, i, EntryType::kNormal, std::to_string(i)});
  }
  return out;
}

TEST(RaftLogMemory, TermsStayInMemoryAsRunsAndEntriesComeFromStorage) {
  MemoryLogStorage storage;
  storage.persist(std::nullopt, terms_by_run(1000, 100), HardState{10, kNoNode, 1000});
  RaftLog log(&storage, 0);
  log.restore_durable(storage.durable_state(0));
  EXPECT_EQ(log.term_runs().size(), 10u);  // one per term, not one per entry
  EXPECT_EQ(log.cached_bytes(), 0u);
  for (Index i = 1; i <= 1000; ++i) ASSERT_EQ(log.term(i), 1 + (i - 1) / 100);
  EXPECT_EQ(log.find_conflict_by_term(1000, 5).first, 500u);
  EXPECT_EQ(storage.reads(), 0u);  // terms never read storage
  Result<std::vector<Entry>> got = log.slice(250, 1001, 256, 1 << 20);
  ASSERT_TRUE(got.is_ok());
  ASSERT_EQ(got->size(), 256u);
  for (size_t k = 0; k < got->size(); ++k) {
    EXPECT_EQ((*got)[k].index, 250 + k);
    EXPECT_EQ((*got)[k].data, std::to_string(250 + k));
  }
  EXPECT_GT(log.storage_reads(), 0u);
}

TEST(RaftLogMemory, CacheKeepsUnpersistedEntriesAndBoundsPersistedOnes) {
  MemoryLogStorage storage;
  const size_t max = 10 * (4 + RaftLog::kEntryOverheadBytes);
  RaftLog log(&storage, max);
  log.restore_durable(storage.durable_state(0));
  std::vector<Entry> all;
  for (Index i = 1; i <= 100; ++i) all.push_back(Entry{1, i, EntryType::kNormal, "abcd"});
  for (const Entry& e : all) log.append_one(e);
  EXPECT_EQ(log.cached_from(), 1u);  // nothing persisted yet: everything stays
  storage.persist(std::nullopt, log.unstable_entries(), std::nullopt);
  log.mark_handed_out();
  log.persisted_to(100);
  EXPECT_LE(log.cached_bytes(), max);
  EXPECT_EQ(log.cached_from(), 91u);
  // A slice across the cache boundary: the old part from storage, the rest from memory.
  Result<std::vector<Entry>> got = log.slice(85, 101, 100, 1 << 20);
  ASSERT_TRUE(got.is_ok());
  ASSERT_EQ(got->size(), 16u);
  for (size_t k = 0; k < got->size(); ++k) EXPECT_EQ((*got)[k], all[84 + k]);
  // The byte bound holds across the boundary too (at least one entry always).
  got = log.slice(85, 101, 100, 9);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->size(), 2u);
  got = log.slice(85, 101, 100, 0);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->size(), 1u);
}

TEST(RaftLogMemory, StorageErrorIsReturnedAndCounted) {
  MemoryLogStorage storage;
  storage.persist(std::nullopt, entries(1, {1, 1, 1}), std::nullopt);
  FlakyStorage flaky(storage);
  RaftLog log(&flaky, 0);
  DurableState durable = storage.durable_state(0);
  durable.storage = &flaky;
  log.restore_durable(durable);
  flaky.fail_next = 1;
  EXPECT_FALSE(log.slice(1, 4, 10, 100).is_ok());
  EXPECT_EQ(log.storage_read_errors(), 1u);
  Result<std::vector<Entry>> again = log.slice(1, 4, 10, 100);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->size(), 3u);
}

// With no cache at all, a follower that was down is caught up from the leader's storage, and
// every node's memory holds no persisted entry once the group is quiet.
TEST(RaftGroupMemory, LaggingFollowerIsCaughtUpFromStorage) {
  Options o;
  o.entry_cache_bytes_max = 0;
  o.entries_per_append_max = 8;
  Group g(3, o);
  ASSERT_EQ(g.elect(1), 1u);
  g.down = {3};
  for (int k = 0; k < 100; ++k) {
    ASSERT_EQ(g.nodes[1]->propose("entry " + std::to_string(k)).outcome, Outcome::kOk);
    g.settle();
  }
  const Index last = g.nodes[1]->log().last_index();
  EXPECT_EQ(g.nodes[1]->log().committed(), last);
  for (NodeId id : {1, 2}) EXPECT_EQ(g.nodes[id]->log().cached_bytes(), 0u);
  const uint64_t reads_before = g.nodes[1]->storage_reads();
  g.down.clear();
  for (int t = 0; t < 200 && g.nodes[3]->log().applied() < last; ++t) g.tick_all();
  ASSERT_EQ(g.nodes[3]->log().applied(), last);
  EXPECT_GT(g.nodes[1]->storage_reads(), reads_before);
  ASSERT_EQ(g.applied[3].size(), g.applied[1].size());
  for (size_t k = 0; k < g.applied[1].size(); ++k) EXPECT_EQ(g.applied[3][k], g.applied[1][k]);
  EXPECT_EQ(g.nodes[3]->log().cached_bytes(), 0u);
}

// Failed reads skip a send or a hand-out of committed entries, and are retried: nothing is
// lost, nothing is applied twice, nothing crashes.
TEST(RaftGroupMemory, StorageReadErrorsAreSkippedAndRetried) {
  Options o;
  o.entry_cache_bytes_max = 0;
  Group g(3, o);
  ASSERT_EQ(g.elect(1), 1u);
  g.down = {3};
  for (int k = 0; k < 20; ++k) ASSERT_EQ(g.nodes[1]->propose("x").outcome, Outcome::kOk);
  g.settle();
  const Index last = g.nodes[1]->log().last_index();
  g.flaky[1]->fail_next = 3;  // the leader's reads for node 3's catch-up
  g.flaky[3]->fail_next = 2;  // node 3's reads of its committed entries
  g.down.clear();
  for (int t = 0; t < 200 && g.nodes[3]->log().applied() < last; ++t) g.tick_all();
  ASSERT_EQ(g.nodes[3]->log().applied(), last);
  EXPECT_EQ(g.nodes[1]->storage_read_errors(), 3u);
  EXPECT_EQ(g.flaky[3]->failures, 2u);
  EXPECT_EQ(g.nodes[3]->storage_read_errors(), 2u);
  ASSERT_EQ(g.applied[3].size(), last);
  for (size_t k = 0; k < g.applied[3].size(); ++k) EXPECT_EQ(g.applied[3][k].index, k + 1);
}

// Restart hands out the committed entries after the state machine's durable applied index and
// nothing at or before it, also after a compaction.
TEST(RaftRestart, ResumesAfterTheDurableAppliedIndex) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  for (int k = 0; k < 20; ++k) ASSERT_EQ(g.nodes[1]->propose("x").outcome, Outcome::kOk);
  g.settle();
  g.tick_all();  // the followers learn the final commit index from a heartbeat
  const Index last = g.nodes[1]->log().last_index();
  ASSERT_EQ(g.nodes[2]->log().applied(), last);

  g.restart(2, 12);  // the state machine had made only 12 durable
  ASSERT_TRUE(g.nodes[2]->has_ready());
  Ready rd = g.nodes[2]->ready();
  ASSERT_FALSE(rd.committed_entries.empty());
  EXPECT_EQ(rd.committed_entries.front().index, 13u);
  EXPECT_EQ(rd.committed_entries.back().index, g.storage[2]->hard_state().commit);
  g.nodes[2]->advance(rd);

  g.restart(2, last);  // everything durable: nothing is handed out again
  while (g.nodes[2]->has_ready()) {
    Ready again = g.nodes[2]->ready();
    EXPECT_TRUE(again.committed_entries.empty());
    g.nodes[2]->advance(again);
  }

  // Compacted to 10 (durable up to there), then durable up to 15 at the crash.
  g.restart(2, 10);
  g.settle();
  g.nodes[2]->compact(10);
  g.storage[2]->compact(g.nodes[2]->snapshot());
  g.restart(2, 15);
  EXPECT_EQ(g.nodes[2]->snapshot().index, 10u);
  Ready after = g.nodes[2]->ready();
  ASSERT_FALSE(after.committed_entries.empty());
  EXPECT_EQ(after.committed_entries.front().index, 16u);
  g.nodes[2]->advance(after);
}

// A follower whose next entry is compacted away gets a kSnapshot naming the leader's applied
// index, its term and the configuration there; it installs that metadata (Ready::snapshot)
// and continues with the entries after it.
TEST(RaftSnapshot, CarriesTheLeadersAppliedIndexAndIsInstalledAsMetadata) {
  Group g(3);
  ASSERT_EQ(g.elect(1), 1u);
  g.down = {3};
  for (int k = 0; k < 30; ++k) ASSERT_EQ(g.nodes[1]->propose("x").outcome, Outcome::kOk);
  g.settle();
  Raft& leader = *g.nodes[1];
  const Index applied = leader.log().applied();
  ASSERT_EQ(applied, leader.log().last_index());
  leader.compact(20);  // the leader's state machine is durable up to 20 only
  g.storage[1]->compact(leader.snapshot());
  EXPECT_EQ(leader.snapshot().index, 20u);
  g.down.clear();
  for (int t = 0; t < 50 && g.snapshots[3].empty(); ++t) g.tick_all();
  ASSERT_EQ(g.sent_snapshots.size(), 1u);
  const SnapshotMeta& sent = g.sent_snapshots[0];
  EXPECT_EQ(sent.index, applied);  // not the compaction point: the newest the host can make
  EXPECT_EQ(sent.term, leader.log().term(applied));
  EXPECT_EQ(sent.conf.voters, (std::vector<NodeId>{1, 2, 3}));
  ASSERT_EQ(g.snapshots[3].size(), 1u);
  EXPECT_EQ(g.snapshots[3][0], sent);
  EXPECT_EQ(g.nodes[3]->snapshot(), sent);
  EXPECT_EQ(g.nodes[3]->log().applied(), applied);
  EXPECT_EQ(g.storage[3]->snapshot(), sent);
  // Afterwards it gets (and applies) only what follows the snapshot.
  const size_t applied_before = g.applied[3].size();
  ASSERT_EQ(leader.propose("after").outcome, Outcome::kOk);
  g.settle();
  ASSERT_EQ(g.applied[3].size(), applied_before + 1);
  EXPECT_EQ(g.applied[3].back().index, applied + 1);
  EXPECT_EQ(g.applied[3].back().data, "after");
}

// Committed entries come in batches bounded by count and by bytes; the host may apply each
// batch at once.
TEST(RaftApply, CommittedEntriesComeInBoundedBatches) {
  Options o;
  o.committed_entries_per_ready_max = 7;
  Group g(3, o);
  ASSERT_EQ(g.elect(1), 1u);
  g.down = {3};
  for (int k = 0; k < 50; ++k)
    ASSERT_EQ(g.nodes[1]->propose(std::string(100, 'v')).outcome, Outcome::kOk);
  g.settle();
  g.down.clear();
  const Index last = g.nodes[1]->log().last_index();
  for (int t = 0; t < 100 && g.nodes[3]->log().applied() < last; ++t) g.tick_all();
  ASSERT_EQ(g.nodes[3]->log().applied(), last);
  EXPECT_EQ(g.max_batch[3], 7u);
  EXPECT_GE(g.apply_batches[3], (last + 6) / 7);
  for (size_t k = 0; k < g.applied[3].size(); ++k) EXPECT_EQ(g.applied[3][k].index, k + 1);

  Options bytes;
  bytes.committed_bytes_per_ready_max = 250;  // two 100-byte entries
  Group h(3, bytes);
  ASSERT_EQ(h.elect(1), 1u);
  for (int k = 0; k < 10; ++k)
    ASSERT_EQ(h.nodes[1]->propose(std::string(100, 'v')).outcome, Outcome::kOk);
  h.settle();
  EXPECT_EQ(h.max_batch[1], 2u);
  EXPECT_EQ(h.applied[1].size(), h.nodes[1]->log().last_index());
}

}  // namespace
}  // namespace tessera::raft
