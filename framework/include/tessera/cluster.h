// The vocabulary shared by the placement and membership interfaces: nodes, key ranges and the
// moves between owners that a membership or range change causes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/bytes.h"

namespace tessera {

using NodeId = std::string;

enum class NodeState : uint8_t { kAlive, kSuspect, kDead, kLeft };

struct NodeInfo {
  NodeId id;
  std::string address;  // "host:port" of the node's RPC endpoint
  std::string zone;     // failure domain; empty when zones are not configured
  NodeState state = NodeState::kAlive;
};

// Keys in [start, end) of one table. An empty `end` means "to the end of the table".
// The bounds live in the placement's own key space: user keys for range placement; 8-byte
// big-endian tokens (hashes of keys) for the ring, where an empty `table` means every table.
struct KeyRange {
  Bytes table;
  Bytes start;
  Bytes end;

  bool contains(ByteView key) const { return key >= start && (end.empty() || key < end); }
};

// Who serves a key. AP: `replicas` is every distinct node in ring order from the key; the first
// `owners` of them are the key's home replicas and the rest are the fallbacks a sloppy quorum
// takes, in order, when home replicas are down. CP: the range, its replication group, and the
// group's members (leader first if known), all of them owners.
struct Location {
  KeyRange range;
  std::string group;              // CP: replication group id; AP: empty
  std::vector<NodeId> replicas;
  size_t owners = 0;              // REQUIRES: owners <= replicas.size()
  // CP: the version of the range map this answer comes from. A replica whose map is newer
  // answers a request routed with an older one with StaleRoute. AP: 0.
  uint64_t map_version = 0;
};

// CP: the ranges of every table with their groups, as the metadata service publishes them.
// `version` grows with every change (a split, a new group, a replaced member).
struct RangeMap {
  uint64_t version = 0;
  std::vector<Location> ranges;  // disjoint; together they cover every table's key space
};

// A range whose data must be copied from one owner to another before ownership changes.
struct RangeMove {
  KeyRange range;
  NodeId from;
  NodeId to;
};

}  // namespace tessera
