// HashRing: consistent hashing with virtual nodes, as pure logic.
//
// Every member gets `vnodes_per_node` tokens, xxHash64 of "<node id>#<i>", so every node computes
// the same ring from the same membership with no coordination. A key's token is xxHash64 of the
// key; its owner vnode is the first one with a token strictly greater (wrapping around), so a
// vnode owns the arc [previous token, its token).
//
// Preference list: walk clockwise from the key's token collecting distinct physical nodes. With
// zones, the walk first takes nodes from zones not yet used, so that the first `replicas` owners
// span as many zones as there are; the remaining nodes follow in ring order as fallbacks.
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/cluster.h"

namespace tessera::ring {

uint64_t key_token(ByteView key);
Bytes encode_token(uint64_t token);  // 8-byte big-endian: byte order is token order

class HashRing {
 public:
  // Members in state kLeft are not on the ring; all others are (a down node keeps its ranges),
  // joining ones only when `with_joining` (the ring they will make once their copies are done).
  HashRing(std::span<const NodeInfo> members, uint32_t vnodes_per_node, bool with_joining = false);

  bool empty() const { return vnodes_.empty(); }
  bool holds(const NodeId& id) const;
  size_t node_count() const { return nodes_.size(); }

  // Distinct nodes in preference order for `token`: zone-diverse owners first (up to `owners`),
  // then every other node in ring order. REQUIRES: !empty().
  std::vector<NodeId> preference_list(uint64_t token, size_t owners) const;

  // The arc [start, end) of the vnode that owns `token`; `wraps` when it crosses zero.
  struct Arc {
    uint64_t start;
    uint64_t end;
  };
  Arc arc_of(uint64_t token) const;

  // Every token on the ring, sorted.
  std::vector<uint64_t> tokens() const;

 private:
  struct Vnode {
    uint64_t token;
    uint32_t node;  // index into nodes_
  };
  size_t owner_index(uint64_t token) const;  // index into vnodes_

  std::vector<NodeInfo> nodes_;
  std::vector<Vnode> vnodes_;  // sorted by token
};

// The ranges whose owner sets differ between `before` and `after`, as moves from an owner in
// `before` to each new owner in `after`. Ranges are token ranges (KeyRange with an empty table).
std::vector<RangeMove> plan_moves(const HashRing& before, const HashRing& after, size_t owners);

}  // namespace tessera::ring
