// Options: the knobs of one Raft node. The core reads no config file: the host fills this.
//
// Thread-safety: plain value. Every queue and batch of the core is bounded by one of these.
#pragma once

#include <cstddef>
#include <cstdint>

#include "raft/types.h"

namespace tessera::raft {

struct Options {
  NodeId id = kNoNode;  // REQUIRES: != kNoNode

  // Election timeout is drawn uniformly from [election_ticks, 2 * election_ticks).
  uint32_t election_ticks = 10;
  uint32_t heartbeat_ticks = 1;  // REQUIRES: < election_ticks

  bool pre_vote = true;
  // A leader that has not heard from a majority within election_ticks steps down, and a
  // follower that heard from a leader within election_ticks refuses (pre-)votes.
  bool check_quorum = true;

  // Replication batching and pipelining.
  size_t entries_per_append_max = 256;
  size_t append_bytes_max = 1 << 20;
  size_t inflight_appends_max = 64;  // appends in flight per follower in Replicate state

  // Committed entries handed out in one Ready for the host to apply (by count and by data
  // bytes, at least one entry); the rest follow in the next.
  size_t committed_entries_per_ready_max = 4096;
  size_t committed_bytes_per_ready_max = 8 << 20;

  // Persisted entries kept in memory (by data bytes plus a fixed overhead each), newest
  // first; older ones are read back through LogStorage. Unpersisted entries always stay in
  // memory (bounded by uncommitted_entries_max on a leader and by what one append carries on
  // a follower), as do the terms of all entries (one run per term). 0: no cache.
  size_t entry_cache_bytes_max = 8 << 20;

  // Proposals not yet committed beyond which propose() answers kBusy.
  size_t uncommitted_entries_max = 1 << 16;
  // Linearizable reads waiting for confirmation beyond which read_index() answers kBusy.
  size_t pending_reads_max = 1 << 14;
};

}  // namespace tessera::raft
