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
};

}  // namespace tessera
