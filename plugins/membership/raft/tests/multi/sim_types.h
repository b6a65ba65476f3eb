// What travels on the simulated network of the multi-group simulation.
//
// Purpose: node-to-node batches of raft messages (one per destination per driver phase),
// snapshot images streamed beside their kSnapshot message, a node's own wake-ups (its event
// loop running a driver iteration, its apply stage finishing work: asynchronous, so they are
// messages to itself after a delay), and client requests and replies.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "driver/types.h"
#include "raft/messages.h"
#include "tessera/sim/simulation.h"

namespace tessera::raft::multi_sim {

using driver::GroupId;
using sim::EndpointId;

struct PeerBatch {
  driver::MessageBatch batch;
};

// A kSnapshot message and the image its sender made at exactly message.snapshot.index.
struct SnapshotTransfer {
  GroupId group = 0;
  Message message;
  std::shared_ptr<const std::string> image;
};

struct Wake {
  enum class Kind : uint8_t { kIterate, kApply };
  Kind kind = Kind::kIterate;
  uint64_t incarnation = 0;  // wake-ups of an earlier incarnation are ignored
};

struct ClientRequest {
  GroupId group = 0;
  uint64_t client = 0;
  uint64_t seq = 0;
  bool write = false;
  uint64_t key = 0;
  uint64_t value = 0;
};

struct ClientReply {
  GroupId group = 0;
  uint64_t client = 0;
  uint64_t seq = 0;
  bool ok = false;
  uint64_t value = 0;
  int64_t leader_hint = -1;  // an endpoint, or -1
};

using MultiMsg = std::variant<PeerBatch, SnapshotTransfer, Wake, ClientRequest, ClientReply>;
using MultiEnv = sim::Env<MultiMsg>;

}  // namespace tessera::raft::multi_sim
