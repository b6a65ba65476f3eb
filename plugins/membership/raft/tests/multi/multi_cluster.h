// MultiCluster: many Raft groups on a few simulated nodes, each node running one driver.
//
// Purpose: the proof of the multi-group driver under faults. Every node is a MultiNode: a
// driver::Driver over a FakeSharedLog (one shared log per node: one write and one sync per
// iteration, torn writes, lost unsynced writes), a transport onto the simulated network
// (drops, delays, reordering, duplicates, partitions), and an asynchronous apply stage whose
// state machines (one KvStore per group) persist themselves only now and then, so a restart
// replays the log from each state machine's durable index. Clients per group write and read
// (ReadIndex) keys; each group's history is checked for linearizability at the end, and the
// safety invariants of every group (sim_harness::Checker: one leader per term, log matching,
// state-machine safety, committed entries durable on a majority) after every step, together
// with the driver's own promises (at most one sync per iteration, at most one batch per peer
// per phase, snapshot images made at exactly the index their message names).
// Thread-safety: none. Ownership: the cluster owns the simulation, the nodes and the clients.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "fake_shared_log.h"
#include "harness/checker.h"
#include "harness/kv.h"
#include "sim_types.h"
#include "tessera/sim/linearizability.h"
#include "tessera/sim/simulation.h"

namespace tessera::raft::multi_sim {

using driver::ReplicaId;

struct MultiOptions {
  size_t nodes = 3;
  size_t groups = 8;
  size_t replicas_per_group = 3;  // < nodes: each group on its own random subset of nodes
  size_t clients_per_group = 2;
  uint64_t keys = 3;  // per group
  Options raft;       // id is set per replica
  driver::DriverOptions driver;
  sim::LinkConfig link;
  sim::FaultConfig faults;  // targets: every node when left empty
  bool faults_on = true;
  double torn_write = 0.0;          // chance that a node dies inside one log write
  double read_error = 0.0;          // chance that one LogStorage read fails
  double sm_persist_chance = 0.2;   // per apply wake and group: the state machine syncs
  sim::Time iterate_delay_max = 3;  // an input waits up to this long for the next iteration
  sim::Time apply_delay_max = 25;   // the apply stage takes up to this long per wake
  size_t apply_entries_per_wake_max = 48;
  sim::Time tick_interval = 10;
  sim::Time client_timeout = 400;
  double client_op_chance = 0.5;  // per idle client tick
};

MultiOptions default_multi_options();

struct MultiStats {
  uint64_t iterations = 0;
  uint64_t syncs = 0;
  uint64_t batches = 0;
  uint64_t messages = 0;
  uint64_t torn_writes = 0;
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_restored = 0;
  uint64_t replayed = 0;  // entries applied again after a restart (state machine lag)
  uint64_t compactions = 0;
  uint64_t reads_served = 0;
  uint64_t writes_acked = 0;
  uint64_t storage_read_errors = 0;
  uint64_t crashes = 0;
};

struct HistoryOp {
  uint64_t client = 0;
  uint64_t call = 0;
  uint64_t ret = sim::kPendingReturn;
  bool write = false;
  uint64_t key = 0;
  uint64_t value = 0;
};

class MultiCluster;

class MultiNode : public sim::Actor<MultiMsg>,
                  public driver::Transport,
                  public driver::ApplySink,
                  public driver::Events {
 public:
  MultiNode(MultiCluster& cluster, size_t index);

  void on_message(MultiEnv& env, EndpointId from, MultiMsg msg) override;
  void on_tick(MultiEnv& env) override;
  void on_crash() override;
  void on_restart(MultiEnv& env) override;

  // driver::Transport
  void send(const tessera::NodeId& to, driver::MessageBatch batch) override;
  // driver::ApplySink
  void apply(GroupId group, std::vector<driver::ApplyItem> items) override;
  // driver::Events
  void proposal_done(const driver::Reply& reply) override;
  void read_done(const driver::Reply& reply) override;
  void leader_changed(GroupId group, const tessera::NodeId& leader, Term term) override;

  bool up() const { return driver_ != nullptr; }
  // REQUIRES: up().
  driver::Driver& driver() { return *driver_; }
  FakeSharedLog& log() { return log_; }
  size_t index() const { return index_; }
  // The groups this node hosts.
  const std::vector<GroupId>& groups() const { return groups_; }
  void host(GroupId group, const SnapshotMeta& start);

  // This node's apply progress of a group, for describe().
  std::string describe_group(GroupId group);
  // Runs iterations until the driver is idle (for scripted tests); returns the count.
  size_t drain(MultiEnv& env, size_t iterations_max);

 private:
  // A group's state machine: volatile, rebuilt on restart from its durable image.
  struct StateMachine {
    sim_harness::KvStore kv;
    Index applied = 0;
    uint64_t chain = 0;
    Index durable = 0;
    std::deque<driver::ApplyItem> queue;
    size_t next_entry = 0;  // within queue.front() when it is kEntries
  };
  // What a state machine made durable (survives crashes).
  struct DurableImage {
    std::string image;
    Index index = 0;
    uint64_t chain = 0;
  };
  struct PendingRequest {
    EndpointId client;
    ClientRequest request;
  };

  void start();
  void iterate();
  void schedule(Wake::Kind kind);
  void run_apply();
  // Carries out up to *budget entries of one group's queue; false if it must stop (a failure).
  void apply_some(GroupId group, StateMachine& sm, size_t budget);
  void handle_request(EndpointId from, const ClientRequest& request);
  void reply(EndpointId to, const ClientRequest& request, bool ok, uint64_t value,
             const tessera::NodeId& hint);
  void check_leaders();
  void gc_staged(GroupId group);

  MultiCluster& cluster_;
  size_t index_;
  tessera::NodeId name_;
  std::vector<GroupId> groups_;

  // Durable: survive crashes.
  FakeSharedLog log_;
  std::map<GroupId, DurableImage> images_;
  std::map<std::pair<GroupId, Index>, std::shared_ptr<const std::string>> staged_;
  std::map<GroupId, Index> applied_high_;  // bookkeeping: the highest index ever applied

  // Volatile.
  std::unique_ptr<driver::Driver> driver_;
  std::map<GroupId, StateMachine> sms_;
  std::map<driver::Token, PendingRequest> requests_;
  std::map<GroupId, Term> leader_checked_term_;
  driver::Token next_token_ = 1;
  uint64_t incarnation_ = 0;
  bool iterate_pending_ = false;
  bool apply_pending_ = false;
  MultiEnv* env_ = nullptr;  // the event being handled
  std::map<tessera::NodeId, size_t> iteration_batches_;
};

class MultiClient : public sim::Actor<MultiMsg> {
 public:
  MultiClient(MultiCluster& cluster, GroupId group, uint64_t client_id);
  void on_message(MultiEnv& env, EndpointId from, MultiMsg msg) override;
  void on_tick(MultiEnv& env) override;
  void on_crash() override {}
  void on_restart(MultiEnv&) override {}

 private:
  void send_current(MultiEnv& env);
  EndpointId random_member(MultiEnv& env) const;

  MultiCluster& cluster_;
  GroupId group_;
  uint64_t client_id_;
  uint64_t seq_ = 0;
  bool active_ = false;
  ClientRequest request_;
  size_t history_index_ = 0;
  sim::Time sent_at_ = 0;
  sim::Time retry_at_ = 0;
  bool retry_pending_ = false;
  EndpointId target_ = 0;
};

class MultiCluster {
 public:
  struct GroupInfo {
    GroupId id = 0;
    std::vector<size_t> members;  // node indexes, sorted
    sim_harness::Checker checker{ConfState{}};
    std::vector<HistoryOp> history;
  };

  MultiCluster(uint64_t seed, MultiOptions options);

  sim::Simulation<MultiMsg>& sim() { return sim_; }
  const MultiOptions& options() const { return options_; }
  MultiStats& stats() { return stats_; }
  uint64_t next_event() { return ++events_; }

  size_t nodes_count() const { return nodes_.size(); }
  MultiNode& node(size_t index) { return *nodes_[index]; }
  GroupInfo& group(GroupId id) { return groups_.at(id); }
  const std::map<GroupId, GroupInfo>& groups() const { return groups_; }
  static tessera::NodeId node_name(size_t index) { return "n" + std::to_string(index); }
  // REQUIRES: a name node_name() made.
  static size_t node_index(const tessera::NodeId& name);
  // The replica id of node `index` in `group`: different in every group, so that the driver's
  // mapping from replica to node is exercised.
  static ReplicaId replica_id(GroupId group, size_t index) { return group * 1000 + index + 1; }
  static size_t replica_node(ReplicaId replica) { return (replica - 1) % 1000; }

  // Runs `steps` events, the invariants checked after each.
  sim::RunResult run(uint64_t steps);
  // Runs until done() or steps_max events.
  sim::RunResult run_until(uint64_t steps_max, const std::function<bool()>& done);
  std::string check_step();
  // Stops the faults (crashes, cuts, pauses, torn writes), heals and restarts every node.
  void quiesce();
  bool quiesced() const { return quiesced_; }
  // Linearizability of every group's history; empty when it passes.
  std::string check_history();
  size_t completed_ops(GroupId group) const;
  size_t completed_ops() const;
  // Every group's state on every node (role, term, indexes, apply progress), for a failure.
  std::string describe();
  // A failure found outside a group's checker (the driver's promises, the apply stage).
  void fail(const std::string& what) {
    if (error_.empty()) error_ = what;
  }

 private:
  MultiOptions options_;
  sim::Simulation<MultiMsg> sim_;
  std::map<GroupId, GroupInfo> groups_;
  std::vector<std::unique_ptr<MultiNode>> nodes_;
  std::vector<std::unique_ptr<MultiClient>> clients_;
  MultiStats stats_;
  uint64_t events_ = 0;
  bool quiesced_ = false;
  std::string error_;
};

}  // namespace tessera::raft::multi_sim
