// Events: the driver's answers to proposals and reads, and leadership changes.
//
// Purpose: every proposal and every read given to the driver is answered exactly once through
// this interface (unless the driver is destroyed first: a crash answers nothing), and a change
// of a group's known leader is announced instead of being polled for.
//
// Answers:
//   kOk:        a proposal's entry was applied at (index, term); a read may be served from the
//               state machine now (it has applied at least `index`, the read's index).
//   kNotLeader: this replica does not lead the group; `leader_hint` names the node that does,
//               or is empty when unknown. Nothing was done.
//   kLost:      the proposal's index was committed with another term: it was lost with a
//               leadership change and was not applied. Retrying is safe.
//   kUnknown:   the outcome cannot be known here (the index was covered by an installed
//               snapshot, or a leadership change failed a read). Retry only if idempotent.
//   kBusy:      a bound was reached (pending proposals or reads of the group, the input
//               queue, the core's own limits). Nothing was done.
//   kNoGroup:   this node hosts no such group.
//   kRejected:  the core refused the request in its current state (a transfer in progress,
//               an invalid request).
// Thread-safety: called from the driver's thread only. Ownership: borrowed by the driver.
#pragma once

#include <cstdint>

#include "driver/types.h"
#include "raft/types.h"
#include "tessera/cluster.h"

namespace tessera::raft::driver {

enum class Answer : uint8_t { kOk, kNotLeader, kLost, kUnknown, kBusy, kNoGroup, kRejected };

const char* to_string(Answer answer);

struct Reply {
  GroupId group = 0;
  Token token = 0;
  Answer answer = Answer::kOk;
  Index index = 0;  // kOk: the applied entry's index (proposal) or the read index (read)
  Term term = 0;    // kOk proposal: the applied entry's term
  tessera::NodeId leader_hint;  // kNotLeader: the leader's node, if known
};

class Events {
 public:
  virtual ~Events() = default;

  virtual void proposal_done(const Reply& reply) = 0;
  virtual void read_done(const Reply& reply) = 0;
  // The group's leader, as this replica knows it, changed: `leader` is its node (empty: none
  // known), `term` this replica's term. Announced at the end of the iteration that saw it.
  virtual void leader_changed(GroupId group, const tessera::NodeId& leader, Term term) = 0;
};

}  // namespace tessera::raft::driver
