// Ready: the effects a Raft node asks its host to carry out, in order.
//
// The host handles a Ready in this order, and only then calls Raft::advance(ready):
//   0. it may send `early_messages` at once, before or while it persists (a leader's appends,
//      heartbeats, snapshots and TimeoutNow: they promise nothing about this node's disk; the
//      leader counts its own entries toward commit only after advance(), thesis 10.2.1);
//   1. persist, atomically or in this order: `snapshot` (the log now starts after its index:
//      drop every stored entry; the staged image restored in step 3 must be durable too),
//      then `entries` (an entry whose index is already stored replaces it and everything after
//      it), then `hard_state`; and make it durable (fsync);
//   2. send `messages` (they may promise what step 1 wrote: votes, acknowledged entries);
//   3. restore the state-machine image staged with the kSnapshot message of `snapshot` (its
//      index and term), then apply `committed_entries` in order (as one batch if the state
//      machine likes: nothing in the core waits between two of them); answer `read_states`
//      once the state machine has applied up to their index; fail `reads_failed`.
// Sending `messages` before persisting breaks Raft's safety; that is why one struct carries
// all of it. Thread-safety: plain value. Ownership: owns everything in it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "raft/messages.h"
#include "raft/types.h"

namespace tessera::raft {

// A linearizable read may be served from the state machine once it has applied `index`.
struct ReadState {
  uint64_t request_id = 0;
  Index index = 0;
};

struct Ready {
  // A snapshot this node installed from a kSnapshot message: restore the image staged with
  // that message (the one at snapshot->index), after persisting the log's new start point.
  std::optional<SnapshotMeta> snapshot;
  std::vector<Entry> entries;
  std::optional<HardState> hard_state;
  std::vector<Message> early_messages;   // may go out before step 1 (a leader's only)
  std::vector<Message> messages;         // only after step 1
  std::vector<Entry> committed_entries;  // contiguous, ascending, after the applied index
  std::vector<ReadState> read_states;
  std::vector<uint64_t> reads_failed;  // lost leadership before the read was confirmed

  bool empty() const {
    return !snapshot && entries.empty() && !hard_state && early_messages.empty() &&
           messages.empty() && committed_entries.empty() && read_states.empty() &&
           reads_failed.empty();
  }
};

}  // namespace tessera::raft
