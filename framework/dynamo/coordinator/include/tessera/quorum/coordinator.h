// Coordinator: one AP client request (put, remove or get) driven to its quorum, as a pure state
// machine.
//
// Purpose: the coordinator half of Dynamo-style replication with no sockets, threads, files,
// clock or logging. The host builds one Coordinator per request, feeds it the replicas' replies
// (step) and the passage of time (tick), and drains effects (effects.h) after each input.
//  - Targets: the first N nodes of the preference list that are believed up. A home replica
//    (one of the first N) that is down is replaced by the next healthy fallback, whose write
//    names that owner as `hint_for` (sloppy quorum). Reads use the same targets.
//  - Write: SendWrite to every target; Answer WriteAcked after W acks, or QuorumUnavailable as
//    soon as W can no longer be reached (too few targets, too many failures) or at the deadline.
//    While nodes join (request.next_owners), the next owners that are up are targets too, and
//    the write also needs min(W, next owners) acks among them, so that the key has its quorum
//    on the owners of both rings, whichever a later read uses.
//  - Read: SendRead to every target (all N, as Dynamo: the extra replies feed read repair and
//    tolerate slow replicas); Answer ReadAnswer after R successful replies, reconciled by the
//    injected function; then ReadRepair every replica that replied without some reconciled
//    version, for replies before and after the Answer, until the deadline.
// Replies from nodes that were not asked, duplicates, and anything after the deadline are
// ignored; a reply that is malformed (too many versions, or versions reconcile rejects) counts
// as a failed reply. Every vector is bounded by request.h's limits.
// Thread-safety: none; one thread owns a Coordinator. Ownership: owns its request, effects and
// the reconcile function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "tessera/conflict.h"
#include "tessera/quorum/effects.h"
#include "tessera/quorum/request.h"
#include "tessera/status.h"

namespace tessera::quorum {

// What survives of `versions` (Conflict::reconcile of the key's conflict plugin, injected so
// the core loads no plugins). Must be deterministic and associative: the coordinator folds
// replies in one at a time. An error marks the reply being folded in as failed.
using Reconcile =
    std::function<Result<std::vector<VersionedValue>>(std::vector<VersionedValue> versions)>;

// A replica's answer to a SendWrite. `ok` false: the replica refused or failed the write.
struct WriteReply {
  NodeId from;
  bool ok = true;
};

// A replica's answer to a SendRead: every version it holds (empty when it has none).
struct ReadReply {
  NodeId from;
  bool ok = true;
  std::vector<VersionedValue> versions;
};

class Coordinator {
 public:
  // Chooses the targets and emits the sends (and, when fewer than `required` targets are
  // healthy, the QuorumUnavailable answer at once).
  // REQUIRES: check_request(request) is OK; `reconcile` is set for a read.
  Coordinator(Request request, Reconcile reconcile);

  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;
  Coordinator(Coordinator&&) = default;
  Coordinator& operator=(Coordinator&&) = default;

  // Replies. A reply of the wrong kind for this request, from a node not asked, a duplicate, or
  // one after the deadline is ignored: none is an error.
  void step(const WriteReply& reply);
  void step(const ReadReply& reply);
  // One unit of time. At the deadline an unanswered request answers QuorumUnavailable, and
  // nothing more happens after it.
  void tick();

  bool has_effects() const { return !effects_.empty(); }
  std::vector<Effect> drain();

  // Whether the Answer has been emitted.
  bool answered() const { return answered_; }
  // Whether nothing more can happen: answered, and either the deadline passed or every target
  // replied. The host may drop a done coordinator (after draining it).
  bool done() const;

  struct Target {
    NodeId node;
    NodeId hint_for;       // empty for a home replica
    bool counts_now = true;  // an owner today or a fallback for one (W is counted on these)
    bool counts_next = false;  // one of request.next_owners
  };
  // In preference order: the healthy home replicas, then the fallbacks, then the next owners
  // that are none of those.
  const std::vector<Target>& targets() const { return targets_; }
  const Request& request() const { return request_; }
  uint64_t ticks() const { return ticks_; }

  // Effects one request can emit at most: a send per target, one answer, and per target a
  // repair each time a reply changes the reconciled set.
  static constexpr size_t kEffectsMax = 2 * kOwnersMax + 1 + kOwnersMax * kOwnersMax;

 private:
  enum class ReplyState : uint8_t { kPending, kOk, kFailed };
  struct TargetState {
    ReplyState reply = ReplyState::kPending;
    // Versions the replica reported or was repaired with; at most kVersionsMax from its reply
    // plus one repair per reply folded in after it.
    std::vector<Bytes> held;
  };

  void choose_targets();
  // Index of `node` among the targets, or targets_.size() when it was not asked.
  size_t find_target(const NodeId& node) const;
  // Targets in `state` among those that count for today's owners (`next` false) or for the
  // next owners (`next` true).
  size_t count(ReplyState state, bool next = false) const;
  // The acks a write needs among the next owners: 0 when there are none.
  size_t required_next() const;
  void answer_if_decided();
  void answer(Answer answer);
  // Folds `versions` into survivors_; false (and survivors_ unchanged) when the reply is
  // malformed.
  bool fold(const std::vector<VersionedValue>& versions);
  void emit_repairs();
  void emit(Effect effect);

  Request request_;
  Reconcile reconcile_;
  std::vector<Target> targets_;            // at most owners + next owners
  std::vector<TargetState> states_;        // parallel to targets_
  std::vector<VersionedValue> survivors_;  // at most kVersionsMax
  std::vector<Effect> effects_;
  size_t effects_emitted_ = 0;  // over the request's life, against kEffectsMax
  uint64_t ticks_ = 0;
  bool answered_ = false;
  bool expired_ = false;
};

}  // namespace tessera::quorum
