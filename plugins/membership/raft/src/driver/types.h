// Driver vocabulary: group ids, replica ids, request tokens, and the message batches nodes
// exchange.
//
// Purpose: the multi-group driver hosts many Raft groups on one node. A group is named by a
// GroupId; inside a group a member is a raft replica id (raft::NodeId, a uint64 that is new for
// each incarnation of a node), which the driver maps to the node (tessera::NodeId, a string)
// that hosts it, so that messages of every group for one node travel together in one batch.
// Thread-safety: plain values. Ownership: a batch owns its messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "raft/messages.h"
#include "raft/types.h"
#include "tessera/cluster.h"

namespace tessera::raft::driver {

using GroupId = uint64_t;
// A member of one group; the raft core's own id. 0 (raft::kNoNode) is never a replica.
using ReplicaId = raft::NodeId;
// The caller's name for a proposal or read; handed back unchanged in its answer.
using Token = uint64_t;

// One raft message of one group.
struct GroupMessage {
  GroupId group = 0;
  Message message;
};

// Everything one node sends another in one go: messages of many groups, heartbeats of many
// groups coalesced. The sender and receiver node are the transport's business.
struct MessageBatch {
  std::vector<GroupMessage> messages;
};

// A size estimate of a message on the wire, for the batch byte bound: a fixed header plus the
// entries' payloads. Exactness does not matter; monotonicity in the payload does.
size_t message_bytes(const Message& message);

}  // namespace tessera::raft::driver
