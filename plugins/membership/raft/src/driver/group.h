// Group: one hosted Raft group inside the driver: its core, its Rng, the map from its replica
// ids to nodes, and the driver's bookkeeping of the group's requests and apply progress.
//
// Purpose: the one place that calls raft::Raft, so that a change of the core's interface is
// adapted here. The driver (driver.cc) owns the iteration; a Group answers what the iteration
// needs: step an input, take a Ready, tell where a message goes, resolve the requests that an
// applied index or a committed entry settles.
// Thread-safety: none; the driver's thread. Ownership: owns the core and the Rng the core
// borrows (so a Group never moves: the driver keeps it behind a unique_ptr).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "driver/apply_sink.h"
#include "driver/durable_log.h"
#include "driver/events.h"
#include "driver/options.h"
#include "driver/stats.h"
#include "driver/types.h"
#include "raft/options.h"
#include "raft/raft.h"
#include "raft/ready.h"
#include "raft/rng.h"
#include "raft/types.h"

namespace tessera::raft::driver {

// Everything needed to host one group on this node (found it, join it, or restart it).
struct GroupSpec {
  GroupId id = 0;
  ReplicaId self = kNoNode;  // this node's replica id in the group; REQUIRES: != kNoNode
  // Node of every other replica (entries for self are ignored). Replicas added later are
  // announced with Driver::set_replica_node().
  std::map<ReplicaId, tessera::NodeId> replicas;
  Options raft;  // raft.id is set to `self`
  // Exactly what recovery found for the group, with the state machine's durable applied index
  // (apply resumes after it) and the group's LogStorage (borrowed: it must outlive the group).
  // A founding member starts from snapshot {0, 0, founders}; a joining one from an empty conf.
  DurableState durable;
  uint64_t rng_seed = 0;  // the group's own election jitter stream
};

class Group {
 public:
  // `self_node` is this node (the leader hint when this replica leads); `stats` (borrowed) are
  // the driver's counters. REQUIRES: spec.self != kNoNode.
  Group(GroupSpec spec, const tessera::NodeId& self_node, DriverStats* stats);

  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  GroupId id() const { return id_; }
  ReplicaId self() const { return self_; }
  const Raft& core() const { return *core_; }

  // Routing. nullptr when the replica's node is unknown.
  const tessera::NodeId* node_of(ReplicaId replica) const;
  void set_node(ReplicaId replica, tessera::NodeId node);
  tessera::NodeId leader_node() const;

  // Inputs (no Ready outstanding). Replies go to `events`.
  void step(Message message);
  void tick();
  void propose(Token token, std::string data, const DriverOptions& options, Events& events);
  void read_index(Token token, const DriverOptions& options, Events& events);
  Outcome transfer_leadership(ReplicaId target);
  // The apply stage reached `applied`; the state machine is durable up to `durable`. Answers
  // what waited for it; compacts the log when due (the new start point is then written with
  // the next storage write).
  void on_applied(Index applied, Index durable, const DriverOptions& options, Events& events);
  // Answers every pending request kNoGroup (the group is being removed).
  void abandon(Events& events);

  // Whether the group has a Ready the iteration should take now: the core has one, and the
  // apply stage is not at its backlog bound (then *stalled is set).
  bool wants_ready(const DriverOptions& options, bool* stalled) const;
  // Takes the core's Ready. REQUIRES: wants_ready().
  Ready& take_ready();
  Ready& ready() { return ready_; }
  bool ready_outstanding() const { return ready_outstanding_; }

  // Parts of the outstanding Ready, as the iteration handles them.
  // Messages a leader may send before the Ready is persisted (moved out of the Ready).
  std::vector<Message> take_early_messages();
  // Messages to send once the Ready is persisted (moved out of the Ready).
  std::vector<Message> take_late_messages();
  // This group's records for the iteration's storage write (empty if none).
  GroupWrite write();
  // Apply items for the outstanding Ready; `snapshots` are the core's kSnapshot messages of
  // this Ready (taken out of the message lists), each becoming a kSendSnapshot item. Resolves
  // proposals whose index is now committed with another term.
  std::vector<ApplyItem> apply_items(std::vector<Message> snapshots, Events& events);
  // Finishes the outstanding Ready.
  void advance();

  // Announces a leader change, if any since the last call.
  void announce_leader(Events& events);

  // Whether a message the core produced is a snapshot the apply stage must generate.
  static bool is_snapshot(const Message& message);

 private:
  struct PendingProposal {
    Token token;
    Term term;
  };
  struct CoreRng : Rng {
    explicit CoreRng(uint64_t seed) : state(seed) {}
    uint64_t uniform(uint64_t n) override;
    uint64_t state;
  };

  void reply_not_leader(Token token, bool read, Events& events) const;
  void answer_applied(Events& events);

  GroupId id_;
  ReplicaId self_;
  tessera::NodeId self_node_;
  DriverStats* stats_;
  std::map<ReplicaId, tessera::NodeId> nodes_;
  CoreRng rng_;
  std::unique_ptr<Raft> core_;
  Ready ready_;
  bool ready_outstanding_ = false;

  // Apply progress: handed_out_ is the last index handed to the apply stage, applied_ the last
  // one it reported done, durable_ the last one its state machine made durable.
  Index handed_out_ = 0;
  Index applied_ = 0;
  Index durable_ = 0;
  std::optional<SnapshotMeta> pending_compaction_;  // a compaction not yet written

  std::map<Index, PendingProposal> proposals_;            // accepted, not yet committed
  std::map<Index, PendingProposal> proposals_committed_;  // committed as proposed, not applied
  std::unordered_map<uint64_t, Token> reads_;             // core request id -> token
  std::multimap<Index, Token> reads_confirmed_;           // confirmed, waiting for apply, by index
  uint64_t next_read_id_ = 1;

  ReplicaId announced_leader_ = kNoNode;
  Term announced_term_ = 0;
  bool announced_ = false;
};

}  // namespace tessera::raft::driver
