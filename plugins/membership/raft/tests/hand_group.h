// A hand-driven Raft group for unit tests: messages are delivered in order, every Ready is
// handled at once (early messages, persist into a MemoryLogStorage, messages, apply), and a
// node can be restarted from what it persisted.
//
// Purpose: the message-level rules without the simulator. Thread-safety: none. Ownership: the
// Group owns its nodes and their storage.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/raft.h"
#include "raft/storage.h"

namespace tessera::raft::testutil {

inline std::vector<Entry> entries(Index first, std::vector<Term> terms) {
  std::vector<Entry> out;
  for (Term t : terms) out.push_back(Entry{t, first++, EntryType::kNormal, "x"});
  return out;
}

class FixedRng : public Rng {
 public:
  uint64_t uniform(uint64_t n) override { return (next_++) % n; }

 private:
  uint64_t next_ = 0;
};

// Forwards to a storage, failing the next `fail_next` reads.
class FlakyStorage : public LogStorage {
 public:
  explicit FlakyStorage(LogStorage& inner) : inner_(inner) {}
  Result<std::vector<Entry>> entries(Index lo, Index hi, size_t bytes_max) override {
    ++reads;
    if (fail_next > 0) {
      --fail_next;
      ++failures;
      return Status::io_error("flaky disk");
    }
    return inner_.entries(lo, hi, bytes_max);
  }

  int fail_next = 0;
  uint64_t reads = 0;
  uint64_t failures = 0;

 private:
  LogStorage& inner_;
};

struct Group {
  explicit Group(size_t n, Options base = {}, size_t learners = 0) : options(base) {
    SnapshotMeta founding;
    for (NodeId id = 1; id <= n; ++id) founding.conf.voters.push_back(id);
    for (NodeId id = n + 1; id <= n + learners; ++id) founding.conf.learners.push_back(id);
    for (NodeId id = 1; id <= n + learners; ++id) {
      storage[id] = std::make_unique<MemoryLogStorage>(founding);
      flaky[id] = std::make_unique<FlakyStorage>(*storage[id]);
      restart(id, 0);
    }
  }
  // A new core for `id` from what it persisted, its state machine durable up to `applied`.
  void restart(NodeId id, Index applied) {
    Options o = options;
    o.id = id;
    DurableState durable = storage[id]->durable_state(applied);
    durable.storage = flaky[id].get();
    nodes[id] = std::make_unique<Raft>(o, rng, durable);
  }
  // The host's persist step for one node's Ready.
  void persist(NodeId id, const Ready& rd) {
    storage[id]->persist(rd.snapshot, rd.entries, rd.hard_state);
  }
  // Drains every node's Ready and delivers messages until quiet; returns messages delivered.
  size_t settle(size_t rounds_max = 1000) {
    size_t delivered = 0;
    for (size_t round = 0; round < rounds_max; ++round) {
      std::vector<Message> wire;
      bool any = false;
      for (auto& [id, r] : nodes) {
        if (!r->has_ready()) continue;
        any = true;
        Ready rd = r->ready();
        for (Message& m : rd.early_messages) wire.push_back(std::move(m));
        persist(id, rd);
        for (Message& m : rd.messages) wire.push_back(std::move(m));
        if (rd.snapshot) snapshots[id].push_back(*rd.snapshot);
        if (!rd.committed_entries.empty()) ++apply_batches[id];
        max_batch[id] = std::max(max_batch[id], rd.committed_entries.size());
        for (const Entry& e : rd.committed_entries) applied[id].push_back(e);
        for (const ReadState& rs : rd.read_states) reads[id].push_back(rs);
        r->advance(rd);
      }
      if (!any) return delivered;
      for (Message& m : wire) {
        if (down.count(m.to) || down.count(m.from)) continue;
        ++delivered;
        if (m.type == MessageType::kSnapshot) sent_snapshots.push_back(m.snapshot);
        nodes[m.to]->step(std::move(m));
      }
    }
    return delivered;
  }
  NodeId elect(NodeId id) {
    for (int t = 0; t < 100 && nodes[id]->role() != Role::kLeader; ++t) {
      nodes[id]->tick();
      settle();
    }
    return nodes[id]->role() == Role::kLeader ? id : kNoNode;
  }
  // Ticks every node that is up once, then settles.
  void tick_all() {
    for (auto& [id, r] : nodes) {
      if (!down.count(id)) r->tick();
    }
    settle();
  }

  Options options;
  FixedRng rng;
  std::map<NodeId, std::unique_ptr<MemoryLogStorage>> storage;
  std::map<NodeId, std::unique_ptr<FlakyStorage>> flaky;
  std::map<NodeId, std::unique_ptr<Raft>> nodes;
  std::map<NodeId, std::vector<Entry>> applied;
  std::map<NodeId, size_t> apply_batches;                 // Readies with committed entries
  std::map<NodeId, size_t> max_batch;                     // most committed entries in one Ready
  std::map<NodeId, std::vector<SnapshotMeta>> snapshots;  // installed (Ready::snapshot)
  std::vector<SnapshotMeta> sent_snapshots;               // kSnapshot messages delivered
  std::map<NodeId, std::vector<ReadState>> reads;
  std::set<NodeId> down;
};

}  // namespace tessera::raft::testutil
