// RangeTable: an immutable, validated index over a RangeMap, answering key -> range lookups.
//
// The metadata service publishes the map; the range placement builds one table per map it is
// given and swaps them atomically, so a lookup never sees half of a change. Per table, the
// ranges are kept sorted by their start key, and a lookup is a binary search.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/status.h"

namespace tessera::range {

class RangeTable {
 public:
  // Validates and indexes `map`. Every table's ranges must tile its key space: the first starts
  // at the empty key, each ends where the next starts, the last is open-ended (empty end), and
  // none is empty. Ids are non-zero and unique, epochs at least 1, every range has a group and
  // at least one voter, and no member is both voter and learner. InvalidArgument naming the
  // offending range otherwise.
  static Result<RangeTable> build(const RangeMap& map);

  uint64_t generation() const { return generation_; }
  bool empty() const { return tables_.empty(); }

  // The range of `table` that holds `key`. NoSuchTable when the map has no ranges for `table`.
  Result<const RangeDescriptor*> find(ByteView table, ByteView key) const;

  // The ranges of `table` holding keys in [start, end) (empty `end`: to the table's end), in
  // key order. NoSuchTable as for find; an empty list when start >= end.
  Result<std::vector<const RangeDescriptor*>> span(ByteView table, ByteView start,
                                                   ByteView end) const;

  // The range with id `id`, or nullptr.
  const RangeDescriptor* by_id(uint64_t id) const;

  // Every range, table by table, each table in key order.
  std::vector<const RangeDescriptor*> all() const;

 private:
  RangeTable() = default;

  uint64_t generation_ = 0;
  std::map<Bytes, std::vector<RangeDescriptor>, std::less<>> tables_;  // by table name
  std::unordered_map<uint64_t, std::pair<Bytes, size_t>> ids_;         // id -> (table, index)
};

// What a new map asks to be copied: for each range present in both (by id), a move to every
// voter or learner of `after` that was not a member in `before`, from the range's last known
// leader in `before` (its first voter when no leader is known). Raft brings a new member up to
// date by itself; the moves tell a node which ranges it is about to receive.
std::vector<RangeMove> plan_moves(const RangeTable& before, const RangeTable& after);

// `count` members for a new group among `members`: alive ones only, none of `avoid`, spread
// over zones (no zone gets a second member before every zone with a candidate has one), and
// within that the least loaded first (`load`: how many groups a node is already in), then by
// node id, so that every node that chooses from the same view chooses the same. Unavailable
// when fewer than `count` members qualify.
Result<std::vector<NodeId>> choose_members(std::span<const NodeInfo> members, size_t count,
                                           std::span<const NodeId> avoid,
                                           const std::unordered_map<NodeId, size_t>& load);

// The Location a router uses for `range`: its voters, the known leader first, all of them
// owners, with the range's id and epoch.
Location location_of(const RangeDescriptor& range);

}  // namespace tessera::range
