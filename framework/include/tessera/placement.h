// Placement: the plugin interface that decides which nodes hold a key.
//
// AP (ring): `locate` returns the preference list, N distinct physical nodes clockwise from the
// key's token, zone-aware when zones are set. CP (range): `locate` returns the range that holds
// the key and its replication group. `set_members` installs a new membership view and returns
// the ranges that must move (copy first, then change ownership); a range placement also takes
// the range map from the metadata service through `set_range_map`.
//
// Thread-safety: implementations are internally synchronized; `locate` is called concurrently
// on every request path and must not block.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/status.h"

namespace tessera {

class Placement {
 public:
  virtual ~Placement() = default;

  // Replaces the membership view. Returns the moves from the old view to the new one.
  virtual Result<std::vector<RangeMove>> set_members(std::span<const NodeInfo> members) = 0;

  // CP: installs a newer range map and returns the moves it causes (a range whose group
  // changed). InvalidArgument for overlapping ranges or a generation not above the current one.
  // NotSupported (the default) for a placement that derives ownership from membership alone,
  // as the ring does.
  virtual Result<std::vector<RangeMove>> set_range_map(const RangeMap& map) {
    return Status::not_supported("this placement derives ownership from membership, not from a "
                                 "range map (generation " + std::to_string(map.generation) + ")");
  }

  // Where (table, key) lives under the current view. Unavailable when there are no members.
  virtual Result<Location> locate(ByteView table, ByteView key) const = 0;

  // CP: the ranges of `table` that hold keys in [start, end) (an empty `end`: to the table's
  // end), in key order, as a scan crosses them. NotSupported (the default) for the ring, whose
  // ranges are in hash order and say nothing about key order.
  virtual Result<std::vector<Location>> locate_span(ByteView table, ByteView start,
                                                    ByteView end) const {
    (void)start;
    (void)end;
    return Status::not_supported("this placement has no key-ordered ranges (table " +
                                 std::string(table) + ")");
  }

  // AP: every range of the current view with its owners (the first `owners` of `replicas`),
  // in token order, for operators (`tessera ring`). Unavailable before any view; NotSupported
  // (the default) where ranges come from a range map the host already has.
  virtual Result<std::vector<Location>> list_ranges() const {
    return Status::not_supported("this placement does not list its ranges");
  }

  // CP: `count` members for a new replication group, chosen among the alive members of the
  // current view, one per zone before any zone gets a second, none of `avoid`. Unavailable
  // when fewer than `count` members qualify. NotSupported (the default) where groups are not
  // chosen by the placement.
  virtual Result<std::vector<NodeId>> choose_replicas(size_t count,
                                                      std::span<const NodeId> avoid) const {
    (void)avoid;
    return Status::not_supported("this placement does not choose group members (" +
                                 std::to_string(count) + " asked)");
  }
};

}  // namespace tessera
