// Message: everything one gossip node says to another.
//
// Purpose: one flat struct for every message type, like the UDP datagram the host will encode;
// fields a type does not use stay at their defaults. Every message carries the sender's own
// entry first in `entries`, then news, and never more than Options::entries_per_message_max
// entries, so a datagram's size is bounded by that count times the bounded entry size.
// Thread-safety: plain value. Ownership: owns its entries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/types.h"

namespace tessera::gossip {

enum class MessageType : uint8_t {
  kPing,           // probe of `to`; answered by kAck with the same seq
  kAck,            // answer to a kPing (or a helper forwarding the target's answer); seq echoed
  kPingReq,        // ask a helper to probe `target` at `target_address` on the sender's behalf
  kPushPull,       // anti-entropy: a window of the sender's view; answered by kPushPullReply
  kPushPullReply,  // a window of the answering node's view
};

std::string_view to_string(MessageType type);

struct Message {
  MessageType type = MessageType::kPing;
  NodeId from;               // the sender; empty never
  std::string from_address;  // where to answer
  NodeId to;                 // the intended receiver; empty for a seed whose id is not known
  uint64_t seq = 0;          // kPing / kAck / kPingReq: the probe number of the origin
  NodeId target;             // kPingReq: the node to probe
  std::string target_address;
  std::vector<Member> entries;  // sender's own entry first; at most entries_per_message_max
};

// A message the host must send. `address` is always set; `to` is empty when the receiver is a
// seed known only by address.
struct Outgoing {
  NodeId to;
  std::string address;
  Message message;
};

}  // namespace tessera::gossip
