// Ready: the effects a Raft node asks its host to carry out, in order.
//
// The host handles a Ready in this order, and only then calls Raft::advance(ready):
//   1. persist, atomically or in this order: `snapshot` (replaces the log up to its index),
//      then `entries` (an entry whose index is already stored replaces it and everything after
//      it), then `hard_state`; and make it durable (fsync);
//   2. send `messages` (they may promise what step 1 wrote: votes, acknowledged entries);
//   3. apply `snapshot` to the state machine, then `committed_entries` in order; answer
//      `read_states` once the state machine has applied up to their index; fail
//      `reads_failed`.
// Sending before persisting breaks Raft's safety; that is why one struct carries all three.
// Thread-safety: plain value. Ownership: owns everything in it.
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
  SnapshotPtr snapshot;
  std::vector<Entry> entries;
  std::optional<HardState> hard_state;
  std::vector<Message> messages;
  std::vector<Entry> committed_entries;
  std::vector<ReadState> read_states;
  std::vector<uint64_t> reads_failed;  // lost leadership before the read was confirmed

  bool empty() const {
    return snapshot == nullptr && entries.empty() && !hard_state && messages.empty() &&
           committed_entries.empty() && read_states.empty() && reads_failed.empty();
  }
};

}  // namespace tessera::raft
