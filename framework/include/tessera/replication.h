// Replication groups: the part of the membership contract that the CP profile adds.
//
// A replication group is a set of replicas (3 or 5 voters, plus learners catching up) that agree
// on one log of commands; each replica applies the committed commands, in log order, to its own
// copy of the group's state (a key range, or the metadata tables). The Raft membership plugin
// implements it; gossip membership does not (Membership::replication_groups() is null there).
//
// Who does what: the host owns each group's state machine (`GroupStateMachine`, below) and opens
// the group with it; the plugin owns the log, elections, replication and snapshots, and calls the
// state machine back. A command is opaque bytes to the plugin.
//
// Replicas, not nodes, are members. A replica is one incarnation of a node in a group: a node
// that joins a group gets a ReplicaId that was never used before, so a node whose disk was wiped
// and that joins again is a new member, never mistaken for the one that lost its log (which
// could otherwise vote twice or count toward a commit it no longer holds). The host tells the
// plugin where each replica lives (`ReplicaResolver`), typically from the metadata service.
//
// Completion: calls that wait for the group (propose, read_barrier, change_voters) take a
// `Completion` that the plugin calls exactly once, on its own thread, with the result; it must
// not block. The host turns it into a promise on its event loop. Destroying the plugin completes
// every pending call with Unavailable.
//
// Thread-safety: all methods of ReplicationGroups may be called concurrently. State-machine
// callbacks for one group are made one at a time, in log order, from one of the plugin's apply
// threads (never the thread that calls ReplicationGroups).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/cluster.h"
#include "tessera/status.h"

namespace tessera {

using GroupId = std::string;
using LogIndex = uint64_t;
// One incarnation of one node in one group; never 0, never reused.
using ReplicaId = uint64_t;

template <typename T>
using Completion = std::function<void(Result<T>)>;

// A member of a group and the node it runs on.
struct Replica {
  ReplicaId id = 0;
  NodeId node;

  bool operator==(const Replica&) const = default;
};

// Where a replica lives: the node that runs it and that node's address, or nullopt when the
// host does not know (yet). Called from the plugin's threads; must be thread-safe and fast.
using ReplicaResolver = std::function<std::optional<NodeInfo>(const GroupId&, ReplicaId)>;

// A snapshot's bytes, read in order one chunk at a time, so that a large range never has to be
// in memory at once. next() returns the next chunk (at most a few MiB), std::nullopt at the end,
// or the error that stopped it (the reader then stops too).
class SnapshotChunks {
 public:
  virtual ~SnapshotChunks() = default;
  virtual Result<std::optional<Bytes>> next() = 0;
};

// One committed command, as handed to GroupStateMachine::apply. Empty `data` is an entry the
// plugin wrote itself (a new leader's no-op, a change of the group's members): nothing to apply,
// but its index counts like any other.
struct Command {
  LogIndex index = 0;
  ByteView data;  // valid for the duration of the apply() call
};

// The host's side of one group on one replica.
class GroupStateMachine {
 public:
  virtual ~GroupStateMachine() = default;

  // Applies the committed commands, in log order, as one batch: every index exactly once after
  // the last restore (or after durable_index() at open), with no gaps. On OK, `results` holds
  // one entry per command: the bytes handed to the proposer's completion (on the replica that
  // proposed it). A command the state machine refuses (its own validation) still counts as
  // applied: report the refusal in its result. A non-OK status means the local copy cannot go
  // on (disk failure); the plugin stops the group on this node.
  // Durability: the state machine need not sync; the plugin's log keeps every command until
  // durable_index() passes it, and replays from there after a crash.
  virtual Status apply(std::span<const Command> commands, std::vector<Bytes>& results) = 0;

  // The highest index whose effects are durable in the state machine's own storage; after a
  // restart the plugin replays the log from the next index, and it truncates its log only up to
  // here. Called from the apply thread; should be cheap.
  virtual LogIndex durable_index() const = 0;

  // A consistent image of the state as of the last applied index (`index`), for a follower that
  // is too far behind. Called on the apply thread between two apply() calls; the chunks may be
  // read later from another thread, while apply() goes on (an engine snapshot, not a copy).
  struct Image {
    LogIndex index = 0;
    std::unique_ptr<SnapshotChunks> chunks;
  };
  virtual Result<Image> snapshot() = 0;

  // Replaces the whole state by an image taken at `index` by another replica, durably: on OK,
  // durable_index() is `index`. A restore interrupted by a crash is started again from the
  // beginning with the same image, so it must tolerate a half-restored state.
  virtual Status restore(LogIndex index, SnapshotChunks& chunks) = 0;
};

struct GroupStatus {
  GroupId group;
  ReplicaId self = 0;
  std::optional<Replica> leader;  // as this replica knows it; none during an election
  uint64_t term = 0;
  LogIndex commit_index = 0;
  LogIndex applied_index = 0;
  std::vector<Replica> voters;
  std::vector<Replica> learners;
};

// A leadership change seen by this node: `leader` is none while the group elects.
struct LeaderChange {
  GroupId group;
  uint64_t term = 0;
  std::optional<Replica> leader;
};

enum class VoterChange : uint8_t {
  kAddLearner,      // joins without a vote and catches up (by snapshot when far behind)
  kPromoteLearner,  // a caught-up learner becomes a voter
  kRemove,          // leaves the group (voter or learner)
};

class ReplicationGroups {
 public:
  virtual ~ReplicationGroups() = default;

  // The host's map from replicas to nodes and addresses. Set once, before opening a group.
  virtual void set_resolver(ReplicaResolver resolver) = 0;

  // Groups this node has a replica of on disk (founded or joined, not removed), with the
  // replica id it has in each. The host reopens each with open_group.
  virtual std::vector<std::pair<GroupId, ReplicaId>> groups_on_disk() const = 0;

  // Founds a new group on this node as `self`, one of `voters` (every founder is given the same
  // list), with the state machine already holding the group's state at `start` (0 for an empty
  // group; a split founds its new group at the parent's split index from data already on disk).
  // InvalidArgument when this node has ever had a replica of `group` (founding is done once,
  // from a decision the host took: static config on first start, the metadata service; a node
  // whose disk was wiped must join, never found), for an empty or duplicate voter list, or when
  // `self` is not among the voters; the message says which. `state` must outlive the group (until close_group).
  virtual Status found_group(const GroupId& group, const Replica& self,
                             std::span<const Replica> voters, LogIndex start,
                             GroupStateMachine* state) = 0;

  // Starts an empty replica of an existing group; it learns the group from the leader once a
  // member adds it (change_voters kAddLearner with the returned id). Returns the new replica's
  // id, never used before. InvalidArgument when a replica of `group` is open or on disk here.
  virtual Result<ReplicaId> join_group(const GroupId& group, GroupStateMachine* state) = 0;

  // Reopens the replica this node has on disk (groups_on_disk()), resuming from its log and
  // from `state->durable_index()`. NotFound when there is none; InvalidArgument when open.
  virtual Status open_group(const GroupId& group, GroupStateMachine* state) = 0;

  // Stops this node's replica; pending calls complete with Unavailable. Its log stays on disk
  // (open_group resumes it) unless the replica was removed from the group, in which case the
  // plugin deletes it. NotFound when not open.
  virtual Status close_group(const GroupId& group) = 0;

  // Appends `command` to the log through the leader; completes with what the leader's
  // state machine's apply() returned once the command is committed and applied. NotLeader
  // (with the leader's id in the message when known) on a follower; Timeout when it did not
  // commit in time (it may still commit later); Busy when the group's queue is full;
  // InvalidArgument for an empty command (empty commands are the plugin's own, see Command).
  virtual void propose(const GroupId& group, Bytes command, Completion<Bytes> done) = 0;

  // A linearizable read point: completes with the index that this node's state machine has
  // applied once every write committed before the call is applied here (ReadIndex: one
  // heartbeat round, shared by the reads that arrive together). NotLeader on a follower.
  virtual void read_barrier(const GroupId& group, Completion<LogIndex> done) = 0;

  // One change of the group's members at a time; completes when the change is committed.
  virtual void change_voters(const GroupId& group, VoterChange change, const Replica& replica,
                             Completion<LogIndex> done) = 0;

  // Asks the leader to hand leadership to `replica` (a caught-up voter).
  virtual Status transfer_leadership(const GroupId& group, ReplicaId replica) = 0;

  // This node's view of the group. NotFound when not open here.
  virtual Result<GroupStatus> status(const GroupId& group) const = 0;

  // Counters of the node's groups together, by name (e.g. "log_fsyncs", "entries_persisted",
  // "proposals_applied"), for metrics and benchmarks; each plugin documents its names.
  virtual std::map<std::string, double> stats() const = 0;

  // Calls `listener` after every leadership change this node sees, in the order seen, until
  // the plugin is destroyed, so that routers need not poll. Called on the plugin's thread;
  // must not block.
  using LeaderListener = std::function<void(const LeaderChange&)>;
  virtual void subscribe_leaders(LeaderListener listener) = 0;
};

}  // namespace tessera
