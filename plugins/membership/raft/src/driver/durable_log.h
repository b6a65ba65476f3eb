// DurableLog: the node's one shared Raft log, as the driver sees it.
//
// Purpose: every driver iteration hands the writes of all its groups to write() in ONE call,
// which must make them durable with ONE sync before it returns (group commit across groups:
// one fsync per iteration, however many groups had something to persist). The real
// implementation is the segmented shared log (src/log_store/); tests use a fake that models
// torn and lost writes.
//
// Record semantics, per group, applied in the order given (the order ready.h prescribes):
//   1. `snapshot` (an installed snapshot): the log now starts after snapshot.index and every
//      stored entry of the group is dropped; or `compacted_to` (the state machine is durable
//      up to there): the log now starts after compacted_to.index, entries up to it may be
//      garbage-collected, later ones stay. At most one of the two is set. Either is the
//      group's new start point (DurableState::snapshot on recovery).
//   2. `entries`: an entry whose index is already stored replaces it and every later entry.
//   3. `hard_state`: replaces the stored one.
// A compaction record is advisory (losing it only keeps more log); the others are not.
// A crash during write() may leave any prefix of the records of the call (in this order,
// groups in the order given), never a later record without every earlier one; recovery must
// present exactly such a prefix (checksums and torn-tail truncation are the log's job).
//
// Thread-safety: called from the driver's thread only. Ownership: the driver borrows it; the
// write borrows its argument for the call.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "driver/types.h"
#include "raft/types.h"
#include "tessera/status.h"

namespace tessera::raft::driver {

// What one group asks to persist in one iteration. `entries` borrows the group's Ready for the
// duration of the write() call.
struct GroupWrite {
  GroupId group = 0;
  std::optional<SnapshotMeta> snapshot;
  std::optional<SnapshotMeta> compacted_to;
  std::span<const Entry> entries;
  std::optional<HardState> hard_state;

  bool empty() const { return !snapshot && !compacted_to && entries.empty() && !hard_state; }
};

// One iteration's writes, every group at most once.
struct LogWrite {
  std::vector<GroupWrite> groups;

  bool empty() const { return groups.empty(); }
};

class DurableLog {
 public:
  virtual ~DurableLog() = default;

  // Persists every record of `write` and syncs once. OK: all of it is durable. An error (the
  // disk refused a write or the sync) means nothing is known about what survived: the driver
  // stops (it returns the error from every later iteration) and the node must restart from what
  // recovery finds, as after a crash (an fsync failure is not retried: the page cache may have
  // dropped the dirty pages, PostgreSQL's "fsyncgate").
  // REQUIRES: !write.empty().
  virtual Status write(const LogWrite& write) = 0;
};

}  // namespace tessera::raft::driver
