// AntiEntropyResponder: this node's side of the anti-entropy sessions its peers start
// (Replica.antiEntropy; the initiator's side is the quorum router's, anti_entropy_rounds.cc).
//
// A session opens with the initiator's root: the responder builds its own tree of the keys
// both nodes own with the shape the message names (replica_keys.h; one pass over the store on
// the worker pool), accepts, and from then on steps the session with each message, reads the
// leaves it asks for on the pool, and answers with its next message and the repairs its
// comparison found: its own versions of keys the initiator should merge (push) and the keys it
// wants the initiator's versions of (fetch). The initiator carries out both, so a responder
// never calls back.
//
// Bounds: at most `sessions_max` sessions at once (busy past it), each holding its tree (at
// most 546 KiB) and one page; a session that hears nothing for kIdleTicksDefault ticks
// (tick(), every tick_ms) is dropped.
//
// Thread-safety: the event loop thread only. Ownership: borrows the view's store and placement
// and the pool, which outlive it.
#pragma once

#include <kj/async.h>

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tessera/antientropy/session.h"
#include "tessera/dynamo/replica_keys.h"
#include "tessera/node/worker_pool.h"

namespace tessera::dynamo {

struct AntiEntropyAnswer {
  std::optional<antientropy::Message> reply;
  std::vector<HostKeyVersions> push;  // this node's versions, for the initiator to merge
  std::vector<Bytes> fetch;           // host keys whose versions this node wants
  bool finished = false;              // this node's side of the session is over
};

class AntiEntropyResponder {
 public:
  AntiEntropyResponder(ReplicaView view, node::WorkerPool* pool, size_t sessions_max = 4)
      : view_(std::move(view)), pool_(pool), sessions_max_(sessions_max) {}

  // The answer to `message` of `from`'s session. Busy when `sessions_max` sessions run and
  // this one is new; a message of no session this node has is answered `finished`.
  kj::Promise<Result<AntiEntropyAnswer>> answer(NodeId from, antientropy::Message message);
  // One unit of time for every session; drops the ones that gave up.
  void tick();
  size_t sessions() const { return sessions_.size(); }

 private:
  using Key = std::pair<NodeId, antientropy::SessionId>;
  struct Responding {
    std::shared_ptr<const antientropy::MerkleTree> tree;  // shared with reads on the pool
    std::optional<antientropy::Session> session;          // none while the tree is built
    bool busy = false;  // building, reading or answering: the peer must wait for the answer
  };

  // Drains the session's effects into `answer`, reading leaves and pushed keys on the pool.
  kj::Promise<Result<AntiEntropyAnswer>> drive(Key key, AntiEntropyAnswer answer);
  // Ends the session: `answer` is its last.
  AntiEntropyAnswer finish(const Key& key, AntiEntropyAnswer answer);

  const ReplicaView view_;
  node::WorkerPool* const pool_;
  const size_t sessions_max_;
  std::map<Key, std::unique_ptr<Responding>> sessions_;
};

}  // namespace tessera::dynamo
