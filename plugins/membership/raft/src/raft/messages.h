// Message: everything one Raft node says to another.
//
// Purpose: one flat struct for every message type, like the wire form the host will encode;
// fields a type does not use stay at their defaults. Thread-safety: plain value. Ownership:
// owns its entries. A kSnapshot message carries only the snapshot's metadata: the sending host
// makes the state-machine image at exactly `snapshot.index` and streams it beside the message;
// the receiving host stages the image before it steps the message into its core.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "raft/types.h"

namespace tessera::raft {

enum class MessageType : uint8_t {
  kPreVote,        // term = proposed term (current + 1), log_index/log_term = last entry
  kPreVoteResp,    // reject; term = the proposed term when granted, else the voter's term
  kVote,           // like kPreVote with the real term; force = leadership transfer
  kVoteResp,       // reject
  kAppend,         // log_index/log_term = entry before `entries`; commit
  kAppendResp,     // log_index = last matching index (accept) or the rejected index;
                   // on reject: reject_hint/log_term = the follower's guess of the match
  kHeartbeat,      // commit (bounded by the follower's match); context = read-index round
  kHeartbeatResp,  // context echoed
  kSnapshot,       // snapshot = (the leader's applied index, the term there, the conf there)
  kTimeoutNow,     // leadership transfer: campaign at once, bypassing pre-vote and leases
};

std::string_view to_string(MessageType type);

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Index log_index = 0;
  Term log_term = 0;
  Index commit = 0;
  std::vector<Entry> entries;
  bool reject = false;
  bool force = false;
  Index reject_hint = 0;
  uint64_t context = 0;
  SnapshotMeta snapshot;  // kSnapshot only
};

}  // namespace tessera::raft
