// Gossip value types: members, their status, and the order in which news about one member
// supersedes older news.
//
// Purpose: the plain data the core gossips and hands to its host. A member's entry is ordered
// by (incarnation, status rank) with alive < suspect < dead < left at equal incarnation; the
// newer of two entries about a node always wins, so merging views is taking a maximum, and
// every view converges to the same entries whatever order news arrives in. Only a node itself
// raises its incarnation (to refute a suspicion, or when it restarts); other nodes only raise
// the status rank at an incarnation they heard.
// Thread-safety: plain values. Ownership: members own their strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::gossip {

using NodeId = std::string;  // same spelling as tessera::NodeId; never empty for a real node

enum class MemberStatus : uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };

std::string_view to_string(MemberStatus status);

struct Member {
  NodeId id;
  std::string address;  // where the node's gossip endpoint listens ("host:port")
  std::string zone;     // failure domain; empty when zones are not configured
  uint64_t incarnation = 0;
  MemberStatus status = MemberStatus::kAlive;
  // Copying its ranges before it owns them (the host's meaning; gossip only carries it). Only
  // the node itself clears it, with a new incarnation, like its address.
  bool joining = false;

  bool operator==(const Member&) const = default;
};

// Whether `a` is newer news than `b` about the same node. A strict order: exactly one of
// supersedes(a, b), supersedes(b, a), or equal (incarnation, status) holds. Entries with equal
// (incarnation, status) never replace each other, so an address changes only with a new
// incarnation, which only the node itself can make.
inline bool supersedes(const Member& a, const Member& b) {
  if (a.incarnation != b.incarnation) return a.incarnation > b.incarnation;
  return static_cast<uint8_t>(a.status) > static_cast<uint8_t>(b.status);
}

// Alive or suspect: still a member to probe and to count (a suspect may refute).
inline bool is_live(MemberStatus status) {
  return status == MemberStatus::kAlive || status == MemberStatus::kSuspect;
}

}  // namespace tessera::gossip
