// DriverStats: counters of what the driver did, for tests, metrics and benchmarks.
//
// Thread-safety: plain value; read it on the driver's thread (or copy it there).
#pragma once

#include <cstdint>

namespace tessera::raft::driver {

struct DriverStats {
  uint64_t iterations = 0;           // run_iteration() calls that did anything
  uint64_t storage_syncs = 0;        // DurableLog::write calls (each one sync)
  uint64_t entries_persisted = 0;    // entries in those writes, every group
  uint64_t messages_sent = 0;        // raft messages handed to the transport
  uint64_t batches_sent = 0;         // Transport::send calls
  uint64_t early_batches_sent = 0;   // of which before the sync (leaders' appends)
  uint64_t snapshots_requested = 0;  // kSendSnapshot items handed to the apply stage
  uint64_t entries_handed_out = 0;   // committed entries handed to the apply stage
  uint64_t proposals_applied = 0;    // proposals answered kOk
  uint64_t reads_served = 0;         // reads answered kOk
  uint64_t apply_stalls = 0;         // group-iterations whose Ready waited for the apply stage
  uint64_t compactions = 0;          // log compactions (start point moved up)
  uint64_t dropped_inputs = 0;       // batches refused at the input queue bound
  uint64_t dropped_messages = 0;     // messages for an unknown group or another replica
  uint64_t unroutable_messages = 0;  // messages to a replica whose node is unknown
};

}  // namespace tessera::raft::driver
