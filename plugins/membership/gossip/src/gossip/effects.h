// Effects: what the gossip core asks its host to do after an input.
//
// The host drains effects after every input (step, tick, join, leave) and handles them in
// this order: send `messages` (any order is correct: gossip assumes a lossy, reordering
// network), then deliver `events` to listeners in order. Nothing needs to be persisted:
// gossip state is soft, and a restarted node rebuilds its view from its peers; the one value
// that must grow across restarts, the starting incarnation, is the host's (Options).
// Thread-safety: plain values. Ownership: owns everything in it.
#pragma once

#include <cstdint>
#include <vector>

#include "gossip/messages.h"
#include "gossip/types.h"

namespace tessera::gossip {

enum class EventKind : uint8_t {
  kJoined,     // first time this node hears of the member, alive or suspect
  kAlive,      // back to alive, or alive with a new address, zone or joining flag
  kSuspect,    // failed a probe, or someone says so; it may still refute
  kDead,       // suspicion timed out without a refutation
  kLeft,       // left gracefully
  kForgotten,  // a dead or left entry reached its retention bound and is gone from the view
};

// One change in this node's view of another member. Pure incarnation bumps that change neither
// status, address, zone nor the joining flag are not events.
struct Event {
  EventKind kind = EventKind::kJoined;
  Member member;  // the entry after the change (before it, for kForgotten)
};

struct Effects {
  std::vector<Outgoing> messages;
  std::vector<Event> events;
};

}  // namespace tessera::gossip
