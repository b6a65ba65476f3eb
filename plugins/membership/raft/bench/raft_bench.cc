// Committed entries per second of a 3-node Raft group in one process: no network, no fsync,
// the host's work reduced to moving Ready contents (persist = copy into a MemoryLogStorage,
// send = step the peer, apply = count). This measures the core alone, which must not be what limits
// a replication group.
#include <benchmark/benchmark.h>

#include <array>
#include <deque>
#include <memory>
#include <string>

#include "raft/memory_storage.h"
#include "raft/raft.h"

namespace tessera::raft {
namespace {

constexpr size_t kNodes = 3;
constexpr size_t kEntryBytes = 100;
constexpr Index kCompactEvery = 10'000;  // keeps the stored log bounded

class CountingRng : public Rng {
 public:
  uint64_t uniform(uint64_t n) override { return (x_ = x_ * 6364136223846793005ULL + 1) % n; }

 private:
  uint64_t x_ = 1;
};

class Group {
 public:
  explicit Group(const Options& base) {
    SnapshotMeta founding;
    for (NodeId id = 1; id <= kNodes; ++id) founding.conf.voters.push_back(id);
    for (NodeId id = 1; id <= kNodes; ++id) {
      Options o = base;
      o.id = id;
      storage_[id - 1] = std::make_unique<MemoryLogStorage>(founding);
      nodes_[id - 1] = std::make_unique<Raft>(o, rng_, storage_[id - 1]->durable_state(0));
    }
    while (nodes_[0]->role() != Role::kLeader) {
      nodes_[0]->tick();
      pump();
    }
    pump();
  }

  Raft& leader() { return *nodes_[0]; }

  // Runs Ready cycles and delivers messages until nothing moves.
  void pump() {
    for (;;) {
      bool moved = false;
      for (size_t k = 0; k < kNodes; ++k) {
        Raft& r = *nodes_[k];
        if (!r.has_ready()) continue;
        moved = true;
        Ready rd = r.ready();
        for (Message& m : rd.early_messages) wire_.push_back(std::move(m));
        storage_[k]->persist(rd.snapshot, rd.entries, rd.hard_state);
        for (Message& m : rd.messages) wire_.push_back(std::move(m));
        applied_[k] += rd.committed_entries.size();
        r.advance(rd);
        const Index applied = r.log().applied();
        if (applied - r.log().snapshot_index() >= kCompactEvery) {
          r.compact(applied);
          storage_[k]->compact(r.snapshot());
        }
      }
      while (!wire_.empty()) {
        moved = true;
        Message m = std::move(wire_.front());
        wire_.pop_front();
        nodes_[m.to - 1]->step(std::move(m));
      }
      if (!moved) return;
    }
  }

 private:
  CountingRng rng_;
  std::array<std::unique_ptr<MemoryLogStorage>, kNodes> storage_;
  std::array<std::unique_ptr<Raft>, kNodes> nodes_;
  std::array<uint64_t, kNodes> applied_{};
  std::deque<Message> wire_;
};

// Proposes `batch` entries, then runs the group until the leader has committed them all.
void run(benchmark::State& state, const Options& options, size_t batch) {
  Group group(options);
  const std::string payload(kEntryBytes, 'v');
  uint64_t committed = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < batch; ++i) {
      Proposal p = group.leader().propose(payload);
      if (p.outcome != Outcome::kOk) state.SkipWithError("propose failed");
    }
    const Index target = group.leader().log().last_index();
    group.pump();
    if (group.leader().log().committed() != target) state.SkipWithError("not committed");
    committed += batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.SetBytesProcessed(static_cast<int64_t>(committed * kEntryBytes));
  state.counters["entries/s"] =
      benchmark::Counter(static_cast<double>(committed), benchmark::Counter::kIsRate);
}

// Batching: many proposals per Ready cycle, up to 256 entries per append, pipelined.
void BM_CommitBatched(benchmark::State& state) {
  Options o;
  o.entries_per_append_max = 256;
  run(state, o, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_CommitBatched)->Arg(64)->Arg(256)->Arg(1024);

// The same with no entry cache: every append to a follower and every apply reads the entries
// back through LogStorage (here a MemoryLogStorage, so this is the core's copying cost).
void BM_CommitBatchedNoCache(benchmark::State& state) {
  Options o;
  o.entries_per_append_max = 256;
  o.entry_cache_bytes_max = 0;
  run(state, o, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_CommitBatchedNoCache)->Arg(256);

// No batching: one entry per proposal, one entry per append, and every proposal waits for its
// commit (a full Ready/round-trip cycle per entry).
void BM_CommitUnbatched(benchmark::State& state) {
  Options o;
  o.entries_per_append_max = 1;
  run(state, o, 1);
}
BENCHMARK(BM_CommitUnbatched);

}  // namespace
}  // namespace tessera::raft

BENCHMARK_MAIN();
