// Driver: hosts many Raft groups on one node, IO-free.
//
// Purpose: the multi-raft loop of a CP node. The host feeds inputs (message batches from peers,
// proposals, reads, apply completions, ticks) and calls run_iteration(), which does, in order:
//   1. tick every group once per tick that fell due (at most ticks_per_iteration_max);
//   2. step the queued inputs (at most inputs_per_iteration_max);
//   3. take the Ready of every group that has one (except groups whose apply stage is at its
//      backlog bound);
//   4. send the early messages (leaders' appends and heartbeats, allowed before the leader's
//      own fsync, Raft thesis 10.2.1), one batch per destination node;
//   5. write every group's records with ONE DurableLog::write (one sync);
//   6. send the remaining messages, one batch per destination node;
//   7. hand each group's committed entries (and snapshot restores and snapshot generation
//      requests, in the group's apply order) to the ApplySink;
//   8. advance every group; announce leader changes.
// A batch is split only at messages_per_batch_max / batch_bytes_max. When nothing needs
// persisting, steps 4 and 6 merge: one batch per node. Proposals are answered when the apply
// stage reports their (index, term) applied; reads once it reports their read index applied.
// Nothing here blocks, sleeps, reads a clock or does IO: the injected DurableLog, Transport,
// ApplySink and Events are the only effects, so the simulator runs it as is.
// Thread-safety: none; one thread owns a Driver and calls everything, the injected interfaces
// are called from it. Ownership: borrows the four interfaces (they must outlive the driver);
// owns its groups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "driver/apply_sink.h"
#include "driver/durable_log.h"
#include "driver/events.h"
#include "driver/group.h"
#include "driver/options.h"
#include "driver/outbox.h"
#include "driver/stats.h"
#include "driver/transport.h"
#include "driver/types.h"
#include "raft/raft.h"
#include "tessera/cluster.h"
#include "tessera/status.h"

namespace tessera::raft::driver {

class Driver {
 public:
  Driver(tessera::NodeId self, DriverOptions options, DurableLog& log, Transport& transport,
         ApplySink& apply, Events& events);

  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Groups. Direct calls, not queued; allowed whenever no iteration runs.
  // Starts hosting a group from what recovery found (or a founding / empty state).
  // Errors: InvalidArgument if the group is hosted already or spec.self is 0.
  Status add_group(GroupSpec spec);
  // Stops hosting a group; its pending requests are answered kNoGroup. Not an error if absent.
  void remove_group(GroupId group);
  // The node hosting `replica` of `group` (a member added by a configuration change).
  // Errors: NotFound if the group is not hosted.
  Status set_replica_node(GroupId group, ReplicaId replica, tessera::NodeId node);

  // Inputs, queued for the next iteration (bounded by input_queue_max).
  // A batch from node `from`. Over the bound it is dropped and counted (Raft retries).
  void deliver(const tessera::NodeId& from, MessageBatch batch);
  // Answered through Events::proposal_done (kBusy at once over the bound).
  void propose(GroupId group, Token token, std::string data);
  // Answered through Events::read_done (kBusy at once over the bound).
  void read_index(GroupId group, Token token);
  // The apply stage carried out `group`'s items up to `applied`, and its state machine is
  // durable up to `durable` (<= applied). Over the bound the report is kept anyway (it is the
  // driver's own back pressure: one pending report per group at most is needed).
  void applied(GroupId group, Index applied, Index durable);
  // Asks the group's leader (if it is this node) to hand leadership to `target`.
  void transfer_leadership(GroupId group, ReplicaId target);
  // One tick of time passed for every group.
  void tick();

  // Runs one iteration (see the top). OK also when there was nothing to do. An error is the
  // DurableLog's: the driver is then stopped (every later call returns it) and the host must
  // restart the node from its storage.
  Status run_iteration();
  // Whether an iteration now would do anything (inputs or ticks queued, or a group has a
  // Ready). A host loop runs iterations while this holds, then waits for input.
  bool has_work() const;

  // Observers.
  const DriverStats& stats() const { return stats_; }
  const tessera::NodeId& self() const { return self_; }
  size_t groups_count() const { return groups_.size(); }
  // nullptr when the group is not hosted. For observers only (tests, status pages).
  const Raft* core(GroupId group) const;
  // The node leading `group` as this replica knows it; empty when unknown or not hosted.
  tessera::NodeId leader(GroupId group) const;

 private:
  struct Input {
    enum class Kind : uint8_t { kBatch, kPropose, kRead, kApplied, kTransfer };
    Kind kind = Kind::kBatch;
    GroupId group = 0;
    Token token = 0;
    uint64_t a = 0;  // kApplied: applied; kTransfer: target
    uint64_t b = 0;  // kApplied: durable
    std::string data;
    MessageBatch batch;
  };

  Group* find(GroupId group);
  void step_input(Input& input);
  void route(Group& group, std::vector<Message> messages, Outbox& outbox,
             std::vector<Message>* snapshots);
  void flush(Outbox& outbox, bool early);

  tessera::NodeId self_;
  DriverOptions options_;
  DurableLog& log_;
  Transport& transport_;
  ApplySink& apply_;
  Events& events_;
  std::map<GroupId, std::unique_ptr<Group>> groups_;
  std::deque<Input> inputs_;
  uint32_t ticks_due_ = 0;
  Status failed_;
  DriverStats stats_;
  // Scratch of one iteration, kept to reuse its capacity.
  std::vector<Group*> ready_groups_;
};

}  // namespace tessera::raft::driver
