// MemoryLogStorage: a LogStorage that keeps the persisted log in memory, for tests, benchmarks
// and hosts that need no durability.
//
// Purpose: the smallest correct host-side log: the host calls persist() with each Ready's
// snapshot and entries (what a real log store writes and syncs), compact() after
// Raft::compact, and durable_state() to restart a core from it. Thread-safety: none.
// Ownership: owns its entries.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "raft/storage.h"
#include "raft/types.h"

namespace tessera::raft {

class MemoryLogStorage : public LogStorage {
 public:
  // A log starting after `start` (the founding point of a group: index 0, the founders).
  explicit MemoryLogStorage(SnapshotMeta start = {}) : snapshot_(std::move(start)) {}

  Result<std::vector<Entry>> entries(Index lo, Index hi, size_t bytes_max) override;

  // Writes what a Ready asks to persist: `snapshot` (replaces the whole log), then `entries`
  // (an entry at a stored index replaces it and everything after), then `hard_state`.
  // REQUIRES: the entries start at or before last_index() + 1, after the snapshot.
  void persist(const std::optional<SnapshotMeta>& snapshot, const std::vector<Entry>& entries,
               const std::optional<HardState>& hard_state);
  // Drops entries up to `meta.index`, which becomes the log's start point.
  void compact(const SnapshotMeta& meta);
  // What a core restarts from; `applied` is the state machine's durable applied index.
  // REQUIRES (of the core): snapshot().index <= applied <= last_index().
  DurableState durable_state(Index applied);

  Index last_index() const { return snapshot_.index + entries_.size(); }
  const SnapshotMeta& snapshot() const { return snapshot_; }
  const HardState& hard_state() const { return hard_state_; }
  uint64_t reads() const { return reads_; }

 private:
  SnapshotMeta snapshot_;
  HardState hard_state_;
  std::deque<Entry> entries_;
  uint64_t reads_ = 0;
};

}  // namespace tessera::raft
