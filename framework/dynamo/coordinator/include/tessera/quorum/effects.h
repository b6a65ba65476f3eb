// Effects: what a quorum coordinator asks its host to do, in the order it asks.
//
// The host drains effects after the constructor and after every input (step, tick) and handles
// them in vector order:
//   1. SendWrite / SendRead: one per target, all emitted by the constructor, before anything
//      else. A SendWrite with a non-empty `hint_for` goes to a fallback: the receiver must keep
//      the write as a hint for that owner (sloppy quorum).
//   2. Answer: exactly one per request, never before the sends; reply to the client with it.
//   3. ReadRepair (reads only): never before the Answer; each one carries the reconciled
//      versions that replica did not report. Repairs keep coming for replies that arrive after
//      the Answer, until the deadline. They are best effort: a lost repair is not retried.
// Thread-safety: plain values. Ownership: owns everything in it.
#pragma once

#include <cstddef>
#include <variant>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/conflict.h"
#include "tessera/status.h"

namespace tessera::quorum {

// Write the request's new version to `to`. `hint_for` is empty for a home replica, else the
// owner that `to` stands in for.
struct SendWrite {
  NodeId to;
  NodeId hint_for;
};

// Ask `to` for every version of the key it holds.
struct SendRead {
  NodeId to;
};

// A write that reached W replicas. `hinted` lists, in target order, the owners whose acked
// copy sits on a fallback as a hint (the fallback is the matching entry of `hint_holders`).
struct WriteAcked {
  size_t acks = 0;
  std::vector<NodeId> hinted;
  std::vector<NodeId> hint_holders;
};

// A read that got R replies. `values` are the live survivors of reconciliation (empty when the
// key is absent or deleted); `context` holds the version of every survivor, tombstones too, so
// that a write passing it back supersedes all of them.
struct ReadAnswer {
  size_t answered = 0;
  std::vector<VersionedValue> values;
  std::vector<Bytes> context;
};

// Fewer than `required` replicas answered: either too few were healthy, too many failed, or
// the deadline passed first.
struct QuorumUnavailable {
  size_t answered = 0;
  size_t required = 0;
  bool deadline_passed = false;
};

using Answer = std::variant<WriteAcked, ReadAnswer, QuorumUnavailable>;

// Copy the reconciled `versions` to `to`, which replied without them. `hint_for` as in
// SendWrite: a stale fallback is repaired as the hint holder it is.
struct ReadRepair {
  NodeId to;
  NodeId hint_for;
  std::vector<VersionedValue> versions;
};

using Effect = std::variant<SendWrite, SendRead, Answer, ReadRepair>;

// OK for WriteAcked and ReadAnswer; QuorumUnavailable with the counts otherwise.
Status to_status(const Answer& answer);

}  // namespace tessera::quorum
