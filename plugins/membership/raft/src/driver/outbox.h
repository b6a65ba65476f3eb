// Outbox: one phase's outgoing messages of every group, gathered into batches per node.
//
// Purpose: coalescing. All messages of one iteration phase for one node go into one batch,
// which is split only when it would exceed the message count or byte bound (a single message
// over the byte bound travels alone). Nodes come out in a fixed order (sorted), so a seeded
// simulation replays exactly.
// Thread-safety: none. Ownership: owns the batches until taken.
#pragma once

#include <cstddef>
#include <map>
#include <utility>
#include <vector>

#include "driver/types.h"
#include "tessera/cluster.h"

namespace tessera::raft::driver {

class Outbox {
 public:
  // REQUIRES: messages_max >= 1.
  Outbox(size_t messages_max, size_t bytes_max)
      : messages_max_(messages_max), bytes_max_(bytes_max) {}

  void add(const tessera::NodeId& to, GroupMessage message);
  bool empty() const { return nodes_.empty(); }
  // Hands every batch to `send(node, batch)`, node by node, and empties the outbox.
  template <class Send>
  void drain(Send send) {
    for (auto& [node, batches] : nodes_) {
      for (Pending& p : batches) send(node, std::move(p.batch));
    }
    nodes_.clear();
  }

 private:
  struct Pending {
    MessageBatch batch;
    size_t bytes = 0;
  };

  size_t messages_max_;
  size_t bytes_max_;
  std::map<tessera::NodeId, std::vector<Pending>> nodes_;
};

}  // namespace tessera::raft::driver
