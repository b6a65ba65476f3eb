// Transport: how the driver's message batches leave the node.
//
// Purpose: the driver sends at most one batch per destination node per phase of an iteration
// (the early phase, before the storage sync, carries leaders' appends and heartbeats; the late
// phase, after it, carries what promises persisted state: votes, acknowledgements), split
// further only when a batch would exceed DriverOptions::messages_per_batch_max or
// batch_bytes_max. Sending is best effort: Raft tolerates loss, duplication and reordering, so
// the transport may drop a batch (a full per-peer queue, a dead connection) and should count
// it; it must never block the driver on a slow peer.
// Snapshot images do not travel here: the apply stage streams them (ApplyItem::kSendSnapshot).
// Thread-safety: called from the driver's thread only. Ownership: the driver borrows it; send
// takes the batch.
#pragma once

#include "driver/types.h"
#include "tessera/cluster.h"

namespace tessera::raft::driver {

class Transport {
 public:
  virtual ~Transport() = default;

  // Queues `batch` for node `to`. Never fails from the driver's point of view.
  // REQUIRES: !batch.messages.empty(); to is not this node.
  virtual void send(const tessera::NodeId& to, MessageBatch batch) = 0;
};

}  // namespace tessera::raft::driver
