// Raft: one member of a replication group, as a pure state machine.
//
// Purpose: the consensus core, with no sockets, threads, files, clock or logging: the host
// feeds it peer messages (step), the passage of time (tick) and requests (propose, read_index,
// propose_conf_change, transfer_leadership, compact), and drains its effects with ready() /
// advance() in the order documented in ready.h. Features: pre-vote, randomized election
// timeouts from an injected Rng, pipelined batched replication with fast back-off, the
// current-term commit rule, check-quorum, leadership transfer, snapshots (metadata only: the
// host makes and restores images), learners, one-at-a-time membership change, ReadIndex reads
// (batched: one heartbeat round per ready()), early leader messages (thesis 10.2.1), and a
// bounded in-memory log that reads older entries back through LogStorage. README.md describes
// how a host drives it.
// Thread-safety: none; one thread owns a Raft. Ownership: borrows the Rng and the
// DurableState's LogStorage (both must outlive it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raft/conf_change.h"
#include "raft/log.h"
#include "raft/messages.h"
#include "raft/options.h"
#include "raft/progress.h"
#include "raft/ready.h"
#include "raft/rng.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace tessera::raft {

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };

// Answers to requests. Anything but kOk means nothing was done and the host should answer its
// client (kNotLeader: retry at leader(), which may be kNoNode).
enum class Outcome : uint8_t {
  kOk,
  kNotLeader,
  kBusy,          // a bound is reached (uncommitted proposals, pending reads)
  kTransferring,  // leadership transfer in progress: proposals wait for the new leader
  kConfPending,   // a configuration change is not committed yet, or the leader's term has
                  // not committed an entry yet
  kInvalid,       // the request does not make sense in the current state
};

struct Proposal {
  Outcome outcome = Outcome::kOk;
  Index index = 0;  // where the entry went; the host knows it was applied as proposed when
  Term term = 0;    // an entry with this index *and* term is applied
};

class Raft {
 public:
  // Restarts from `durable` (see DurableState): committed entries after durable.applied are
  // handed out again, nothing at or before it.
  // REQUIRES: options.id != kNoNode; options.heartbeat_ticks < options.election_ticks;
  // durable as DurableState documents (durable.storage != nullptr).
  Raft(const Options& options, Rng& rng, const DurableState& durable);

  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // Inputs. REQUIRES (all): no Ready outstanding (every ready() was followed by advance()).
  void step(Message message);
  void tick();
  Proposal propose(std::string data);
  Proposal propose_conf_change(const ConfChange& change);
  // A linearizable read: once confirmed, a ReadState with this id comes out of ready(). Reads
  // that arrive between two ready() calls share one heartbeat round, sent by the next ready().
  Outcome read_index(uint64_t request_id);
  Outcome transfer_leadership(NodeId target);
  // The host's state machine is durable up to `index`: drop the log up to there (the host
  // then deletes those entries from its storage). The core keeps no image: when a follower
  // needs a snapshot, the leader's kSnapshot names its applied index and the host makes the
  // image there. An index at or below snapshot().index does nothing.
  // REQUIRES: index <= log().applied(), and the state machine durable up to `index` (a crash
  // must not need entries before it).
  void compact(Index index);

  // Effects.
  bool has_ready() const;
  Ready ready();
  // REQUIRES: `ready` is the last value ready() returned, fully handled as ready.h says.
  void advance(const Ready& ready);

  // Observers.
  NodeId id() const { return options_.id; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return leader_; }
  const RaftLog& log() const { return log_; }
  const ConfState& conf() const { return conf_; }
  // The log's start point (the last compaction or installed snapshot).
  const SnapshotMeta& snapshot() const { return snapshot_; }
  // Heartbeat rounds started for ReadIndex (one per ready() that had new reads).
  uint64_t read_rounds() const { return read_rounds_; }
  // Storage reads, and those that failed (each failure skipped one append or one hand-out of
  // committed entries; both are retried).
  uint64_t storage_reads() const { return log_.storage_reads(); }
  uint64_t storage_read_errors() const { return log_.storage_read_errors(); }
  NodeId transfer_target() const { return transferee_; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }

 private:
  // Roles (raft.cc).
  void become_follower(Term term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(Term term);
  void campaign(bool pre_vote, bool force);
  void tick_election();
  void tick_heartbeat();
  bool promotable() const;
  void send(Message message);
  void fail_pending_reads();
  void step_down_if_removed();
  uint64_t random_timeout();

  // Message handling (step.cc).
  bool check_term(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  void step_leader(Message& m);
  void step_follower(Message& m);

  // Replication (replication.cc).
  void handle_append(Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  void send_append(NodeId to, bool send_if_empty);
  SnapshotMeta snapshot_to_send() const;
  void broadcast_append(bool send_if_empty);
  void broadcast_heartbeat(uint64_t context);
  bool maybe_commit();
  Index quorum_index();
  void append_entry(EntryType type, std::string data);

  // Configuration (config.cc).
  void on_entries_appended(Index first_new);
  bool record_conf_entry(const Entry& e);
  void on_log_truncated(Index from);
  void refresh_config();
  void apply_config(const ConfState& conf);
  ConfState conf_at(Index index) const;

  // ReadIndex (read_index.cc).
  void release_reads();
  void queue_read(uint64_t request_id);
  void start_read_round();

  const Options options_;
  Rng& rng_;
  RaftLog log_;
  Role role_ = Role::kFollower;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId leader_ = kNoNode;

  // Configuration: the snapshot's, then every conf entry in the log after it.
  ConfState base_conf_;
  std::vector<std::pair<Index, ConfState>> conf_entries_;
  ConfState conf_;
  Index pending_conf_index_ = 0;  // last conf entry index; a new change waits for its commit
  SnapshotMeta snapshot_;
  std::optional<SnapshotMeta> pending_snapshot_;  // installed, not yet handed out in a Ready

  std::map<NodeId, Progress> progress_;  // leader only; peers (never self)
  std::map<NodeId, bool> votes_;
  uint64_t ticks_ = 0;
  uint32_t election_elapsed_ = 0;
  uint32_t heartbeat_elapsed_ = 0;
  uint64_t randomized_timeout_ = 0;
  NodeId transferee_ = kNoNode;
  uint32_t transfer_elapsed_ = 0;
  Index term_start_index_ = 0;  // the leader's no-op; reads and conf changes wait for it

  // ReadIndex: reads are numbered by round; a round is confirmed when a quorum echoed it.
  struct PendingRead {
    uint64_t request_id;
    Index index;
    uint64_t round;
  };
  std::deque<PendingRead> reads_;
  std::deque<uint64_t> reads_before_commit_;  // arrived before the term's first commit
  uint64_t read_round_ = 0;
  bool read_round_pending_ = false;  // reads wait for round read_round_ + 1, sent by ready()
  uint64_t read_rounds_ = 0;
  std::map<NodeId, uint64_t> read_acked_round_;

  // Outgoing effects gathered since the last ready().
  std::vector<Message> outbox_;
  std::vector<ReadState> read_states_;
  std::vector<uint64_t> reads_failed_;
  HardState persisted_hard_state_;
  bool ready_outstanding_ = false;
  bool append_pending_ = false;  // proposals since the last ready() await one broadcast
  bool apply_blocked_ = false;   // a storage read for committed entries failed; retry at tick
  std::vector<Index> scratch_;
};

}  // namespace tessera::raft
