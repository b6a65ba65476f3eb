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
  // AP: a node copying the ranges it is to own. Until it says the copy is done it owns none:
  // the ring is built without it, and writes also go to it (Location::next_owners).
  bool joining = false;
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
// group's voters (leader first if known), all of them owners.
struct Location {
  KeyRange range;
  std::string group;              // CP: replication group id; AP: empty
  std::vector<NodeId> replicas;
  size_t owners = 0;              // REQUIRES: owners <= replicas.size()
  // CP: the range's id and its epoch in the map this answer comes from. A request carries the
  // epoch it was routed with; a replica that knows the range at another epoch (or no longer
  // owns the key) answers StaleRoute. Per range, so that a change of one range leaves routes
  // to every other range valid. AP: 0.
  uint64_t range_id = 0;
  uint64_t epoch = 0;
  // AP, while nodes are joining: the key's owners once every joining node owns its ranges,
  // when they differ from the first `owners` of `replicas` (else empty). A write goes to them
  // too and needs its quorum among them as well as among today's owners; reads ask today's.
  std::vector<NodeId> next_owners;
};

// CP: where a range is in its life. A controller changes a range one step at a time and each
// step raises the range's epoch; a state other than kStable tells routers and replicas which
// step is under way, so that a node that restarts in the middle can finish or undo it.
enum class RangeState : uint8_t {
  kStable = 0,
  kSplitting = 1,        // a split at `split_key` is proposed in the group's log
  kAddingLearner = 2,    // `learners` are catching up; they vote only once promoted
  kRemovingReplica = 3,  // `leaving` is being taken out of the group
};

// CP: one range of one table, as the metadata service records it.
struct RangeDescriptor {
  uint64_t id = 0;               // never reused
  KeyRange range;                // `table` is the table's name
  uint64_t epoch = 1;            // raised by every change to this range
  std::string group;             // the Raft group that replicates it
  std::vector<NodeId> voters;    // the group's voting members
  std::vector<NodeId> learners;  // members catching up (kAddingLearner)
  NodeId leader;                 // last known leader; may be stale, empty if unknown
  RangeState state = RangeState::kStable;
  Bytes split_key;               // kSplitting: where the range splits
  NodeId leaving;                // kRemovingReplica: the member on its way out
};

// CP: the ranges of every table, as the metadata service publishes them. `generation` grows
// with every change to the map (a new table, a split, a replaced member, a new leader).
struct RangeMap {
  uint64_t generation = 0;
  std::vector<RangeDescriptor> ranges;  // disjoint; together they cover every table's keys
};

// A range whose data must be copied from one owner to another before ownership changes.
struct RangeMove {
  KeyRange range;
  NodeId from;
  NodeId to;
};

}  // namespace tessera
