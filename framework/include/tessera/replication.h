// Replication groups: the part of the membership contract that the CP profile adds.
//
// A replication group is a set of nodes (3 or 5 voters, plus learners catching up) that agree
// on one log of commands; each node applies the committed commands, in log order, to its own
// copy of the group's state (a key range, or the metadata tables). The Raft membership plugin
// implements it; gossip membership does not (Membership::replication_groups() is null there).
//
// Who does what: the host owns each group's state machine (`GroupStateMachine`, below) and opens
// the group with it; the plugin owns the log, elections, replication and snapshots, and calls the
// state machine back. A command is opaque bytes to the plugin.
//
// Completion: calls that wait for the group (propose, read_barrier, change_voters) take a
// `Completion` that the plugin calls exactly once, on its own thread, with the result; it must
// not block. The host turns it into a promise on its event loop. Destroying the plugin completes
// every pending call with Unavailable.
//
// Thread-safety: all methods may be called concurrently. State-machine callbacks for one group
// are made one at a time, in log order, from the plugin's thread.
#pragma once

#include <cstdint>
#include <functional>
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

template <typename T>
using Completion = std::function<void(Result<T>)>;

// A snapshot's bytes, read in order one chunk at a time, so that a large range never has to be
// in memory at once. next() returns the next chunk, std::nullopt at the end, or the error that
// stopped it (the reader then stops too).
class SnapshotChunks {
 public:
  virtual ~SnapshotChunks() = default;
  virtual Result<std::optional<Bytes>> next() = 0;
};

// The host's side of one group on one node.
class GroupStateMachine {
 public:
  virtual ~GroupStateMachine() = default;

  // Applies the committed command at `index`. Called for every index in order, exactly once per
  // index after the last restore. A command the state machine refuses (its own validation)
  // must still count as applied: return OK and report the refusal through the result that the
  // proposer gets (`apply` returns the bytes handed to propose's completion). A non-OK status
  // means the local copy cannot go on (disk failure); the plugin stops the group on this node.
  virtual Result<Bytes> apply(LogIndex index, ByteView command) = 0;

  // The highest index whose effects are durable in the state machine's own storage; after a
  // restart the plugin replays the log from the next index.
  virtual LogIndex durable_index() const = 0;

  // A consistent image of the state as of `durable_index()` for a follower that is too far
  // behind (or to compact the log).
  virtual Result<std::unique_ptr<SnapshotChunks>> snapshot() = 0;

  // Replaces the whole state by a snapshot taken at `index` by another replica. On OK,
  // durable_index() is `index`.
  virtual Status restore(LogIndex index, SnapshotChunks& chunks) = 0;
};

struct GroupStatus {
  GroupId group;
  std::optional<NodeId> leader;  // as this node knows it; none during an election
  uint64_t term = 0;
  LogIndex commit_index = 0;
  LogIndex applied_index = 0;
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
};

enum class VoterChange : uint8_t {
  kAddLearner,      // joins without a vote and catches up (by snapshot when far behind)
  kPromoteLearner,  // a caught-up learner becomes a voter
  kRemove,          // leaves the group (voter or learner)
};

class ReplicationGroups {
 public:
  virtual ~ReplicationGroups() = default;

  // Starts this node's replica of `group`. A new group is founded with `voters` (all nodes
  // must found it with the same list); an existing one reopens from what this node made durable
  // and ignores `voters`. `state` must outlive the group (until close_group returns).
  // InvalidArgument for an empty or duplicate voter list, or when the group is open already.
  virtual Status open_group(const GroupId& group, std::span<const NodeId> voters,
                            GroupStateMachine* state) = 0;
  // Stops this node's replica; pending calls complete with Unavailable. NotFound when not open.
  virtual Status close_group(const GroupId& group) = 0;

  // Appends `command` to the log through the leader; completes with what the leader's
  // state machine's apply() returned once the command is committed and applied. NotLeader
  // (with the leader's id in the message when known) on a follower; Timeout when it did not
  // commit in time (it may still commit later).
  virtual void propose(const GroupId& group, Bytes command, Completion<Bytes> done) = 0;

  // A linearizable read point: completes with the index that this node's state machine has
  // applied once every write committed before the call is applied here (ReadIndex, or a lease
  // on the leader). NotLeader on a follower.
  virtual void read_barrier(const GroupId& group, Completion<LogIndex> done) = 0;

  // One change of the group's members at a time; completes when the change is committed.
  virtual void change_voters(const GroupId& group, VoterChange change, const NodeId& node,
                             Completion<LogIndex> done) = 0;

  // Asks the leader to hand leadership to `node` (a caught-up voter).
  virtual Status transfer_leadership(const GroupId& group, const NodeId& node) = 0;

  // This node's view of the group. NotFound when not open here.
  virtual Result<GroupStatus> status(const GroupId& group) const = 0;
};

}  // namespace tessera
