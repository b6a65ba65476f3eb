// Conflict: the plugin interface for versions and their reconciliation.
//
// A version is opaque bytes that only the conflict plugin interprets: a 16-byte sequencer for
// last-write-wins, a vector clock for the Dynamo profile. The framework stores the version
// beside every value and tombstone and asks this plugin to order and reconcile them.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <span>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/cluster.h"
#include "tessera/status.h"

namespace tessera {

enum class VersionOrder { kBefore, kAfter, kEqual, kConcurrent };

struct VersionedValue {
  Bytes version;
  bool tombstone = false;
  Bytes value;  // empty for a tombstone
};

class Conflict {
 public:
  virtual ~Conflict() = default;

  // A version for a write coordinated by `node` that supersedes every version in `context`
  // (the versions the client read before writing; empty for a blind write).
  virtual Result<Bytes> new_version(const NodeId& node, std::span<const Bytes> context) = 0;

  // How `a` relates to `b`: kBefore means a happened before b. InvalidArgument on bytes that
  // are not a version of this plugin.
  virtual Result<VersionOrder> compare(ByteView a, ByteView b) const = 0;

  // What survives of `versions`: everything that no other version supersedes. LWW keeps one;
  // vector clocks keep every concurrent sibling. Order of the output is deterministic.
  virtual Result<std::vector<VersionedValue>> reconcile(
      std::vector<VersionedValue> versions) const = 0;

  // `version` with what the cluster no longer needs removed, given the nodes that are still
  // `members`: a vector clock drops the entries of nodes that left. Pruning may only make
  // versions look concurrent that were ordered (a sibling comes back and a later write settles
  // it), never make one look superseded that was not: no write is lost to it. Returns `version`
  // unchanged when there is nothing to prune (always, for LWW). InvalidArgument as compare().
  virtual Result<Bytes> prune(ByteView version, std::span<const NodeId> members) const = 0;

  // The version a replicated log applies for a write proposed with `proposed` when the last
  // version it applied is `last` (empty before the first): a version after `last`, so that
  // applied in commit order, version order is commit order even when a new leader's clock is
  // behind the old one's or a node restarts with its clock set back. The log persists the result
  // with its applied index. NotSupported for versions without a total order (vector clocks: the
  // CP profile refuses such a plugin at start); InvalidArgument as compare().
  virtual Result<Bytes> order_after(ByteView proposed, ByteView last) const = 0;
};

}  // namespace tessera
