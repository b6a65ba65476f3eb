// DriverOptions: the bounds of the multi-group driver. Every queue and batch it keeps is
// bounded by one of these.
//
// Thread-safety: plain value.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::raft::driver {

struct DriverOptions {
  // Inputs (message batches, proposals, reads, apply completions, transfers) waiting for an
  // iteration; beyond it a batch is dropped (counted) and a request answered kBusy.
  size_t input_queue_max = 1 << 16;
  // Inputs one iteration steps; the rest wait for the next, so that one iteration's latency
  // (and the sync it ends with) stays bounded under a flood.
  size_t inputs_per_iteration_max = 4096;
  // Ticks one iteration catches up on when the host fell behind (each is one tick of every
  // group); more would turn a stall into a burst of elections.
  uint32_t ticks_per_iteration_max = 2;

  // One outgoing batch holds at most this many messages and (estimated) bytes; more are split
  // into further batches to the same node. A single message over the byte bound goes alone.
  size_t messages_per_batch_max = 4096;
  size_t batch_bytes_max = 4 << 20;

  // Proposals of one group accepted but not yet answered; more are answered kBusy.
  size_t pending_proposals_per_group_max = 4096;
  // Reads of one group accepted but not yet answered; more are answered kBusy.
  size_t pending_reads_per_group_max = 4096;
  // Committed entries of one group handed to the apply stage and not yet reported applied.
  // At the bound the group's Ready waits (no new committed entries are handed out): back
  // pressure from a slow state machine to its group, not to the node.
  size_t apply_backlog_per_group_max = 16384;

  // The log of a group is compacted up to the state machine's durable index once that is at
  // least this many entries past the log's start (etcd's SnapshotCount; TiKV's
  // raft_log_gc_threshold).
  uint64_t compact_entries_min = 1024;
};

}  // namespace tessera::raft::driver
