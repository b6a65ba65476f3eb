// Cluster: a simulated Raft group serving a replicated key-value store to simulated clients.
//
// Purpose: wires raft::Raft cores into tessera::sim: RaftNode drives one core (step, tick,
// the Ready cycle onto a fake disk that survives crashes and that the core reads back through
// LogStorage, a KvStore that does not survive but persists an image of itself now and then,
// so a restart replays the log after the state machine's durable applied index), Client
// issues reads (ReadIndex) and writes (with retries under one session sequence number) and
// records the history, Controller moves leadership and changes membership at random. After
// every step the Checker's invariants run; at the end the history must be linearizable.
// Thread-safety: none. Ownership: the Cluster owns the simulation and every actor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "checker.h"
#include "kv.h"
#include "raft/raft.h"
#include "tessera/sim/linearizability.h"
#include "tessera/sim/simulation.h"

namespace tessera::raft::sim_harness {

using sim::EndpointId;

struct ClientRequest {
  uint64_t client = 0;
  uint64_t seq = 0;
  bool write = false;
  uint64_t key = 0;
  uint64_t value = 0;
};

struct ClientReply {
  uint64_t client = 0;
  uint64_t seq = 0;
  bool ok = false;
  uint64_t value = 0;
  NodeId leader_hint = kNoNode;
};

// A Raft message on the simulated wire. A kSnapshot carries, beside the message, the image
// the sending host made from its state machine at exactly message.snapshot.index.
struct RaftPacket {
  Message message;
  std::shared_ptr<const std::string> image;
};

using SimMsg = std::variant<RaftPacket, ClientRequest, ClientReply>;
using SimEnv = sim::Env<SimMsg>;

struct HistoryOp {
  uint64_t client = 0;
  uint64_t call = 0;
  uint64_t ret = sim::kPendingReturn;
  bool write = false;
  uint64_t key = 0;
  uint64_t value = 0;  // written, or read
};

struct ClusterOptions {
  size_t servers = 5;         // endpoints 0..servers-1 are nodes 1..servers
  size_t initial_voters = 3;  // nodes 1..initial_voters found the group; the rest start empty
  size_t clients = 3;
  uint64_t keys = 4;
  Options raft;  // id is set per node
  sim::LinkConfig link;
  sim::FaultConfig faults;  // targets default to every server when left empty
  bool faults_on = true;
  double defer_flush = 0.1;  // chance that a node postpones its Ready after a message
  double torn_write = 0.0;   // chance that a node dies halfway through persisting a Ready
  // Chance that a leader dies after sending a Ready's early messages, before or while it
  // persists that Ready (its own entries may then exist only on followers' disks).
  double early_crash = 0.0;
  // Chance, after applying a Ready's entries, that the state machine makes itself durable
  // (an image at its applied index); a crash loses what it applied since.
  double sm_persist_chance = 0.25;
  double storage_read_error = 0.0;  // chance that a read of the log through LogStorage fails
  uint64_t compact_every = 64;      // durable applied entries between compactions; 0: never
  double transfer_chance = 0.0;     // per controller tick
  double membership_chance = 0.0;
  sim::Time tick_interval = 10;
  sim::Time client_timeout = 400;
  double client_op_chance = 0.5;  // per idle client tick
};

ClusterOptions default_fault_options();

// Counts of what a run exercised, so a sweep can show it covered the features it claims.
struct ClusterStats {
  uint64_t snapshots_installed = 0;
  uint64_t reads_served = 0;
  uint64_t writes_acked = 0;
  uint64_t transfers_requested = 0;
  uint64_t conf_changes_proposed = 0;
  uint64_t torn_writes = 0;
  uint64_t early_messages = 0;  // sent before the Ready that made them was persisted
  uint64_t early_crashes = 0;   // crashes between sending those and persisting
  uint64_t replayed = 0;        // entries applied again after a restart (durability lag)
  uint64_t storage_reads = 0;   // by the cores, through LogStorage
  uint64_t storage_read_errors = 0;
  uint64_t images_sent = 0;  // state-machine images made for kSnapshot messages
};

class Cluster;

class RaftNode : public sim::Actor<SimMsg> {
 public:
  // `start`: the log's start point on this node's empty disk (the founding configuration for
  // founders, empty for a node that joins later).
  RaftNode(Cluster& cluster, NodeId id, SnapshotMeta start);

  void on_message(SimEnv& env, EndpointId from, SimMsg msg) override;
  void on_tick(SimEnv& env) override;
  void on_crash() override;
  void on_restart(SimEnv& env) override;

  bool up() const { return raft_ != nullptr; }
  // REQUIRES: up().
  Raft& raft() { return *raft_; }
  NodeId id() const { return id_; }
  // Runs the Ready cycle until the core is quiet.
  void flush(SimEnv& env);
  // Incremental invariant checks of this node (commit and leader).
  void check();
  // Whether this node's disk holds the committed prefix ending at (index, chain).
  bool disk_holds(Index index, uint64_t chain) const;
  const KvStore& kv() const { return kv_; }
  Index applied_index() const { return applied_index_; }
  // Reads this node answered from its state machine (across restarts).
  uint64_t reads_served() const { return reads_served_; }

 private:
  // What survives a crash: the raft log (and its start point) and the state machine's image.
  struct Disk {
    HardState hard_state;
    SnapshotMeta snapshot;  // the log's start point
    uint64_t snapshot_chain = 0;
    std::vector<Entry> entries;  // (snapshot.index, last_index()]
    std::vector<uint64_t> chains;
    std::string sm_image;  // the state machine, durable up to sm_applied
    Index sm_applied = 0;
    uint64_t sm_chain = 0;
    Index snapshot_index() const { return snapshot.index; }
    Index last_index() const { return snapshot.index + entries.size(); }
  };
  // The core's LogStorage: reads the fake disk, failing now and then.
  class DiskStorage : public LogStorage {
   public:
    explicit DiskStorage(RaftNode& node) : node_(node) {}
    Result<std::vector<Entry>> entries(Index lo, Index hi, size_t bytes_max) override;

   private:
    RaftNode& node_;
  };
  struct RngAdapter : Rng {
    sim::Rng* rng = nullptr;
    uint64_t uniform(uint64_t n) override { return rng->uniform(n); }
  };
  struct WaitingRead {
    ReadState state;
    EndpointId client;
    ClientRequest request;
  };

  void start();
  DurableState durable_state();
  // Entry i of the core's log, from its memory or else from the disk (checks only).
  const Entry& entry_at(Index i) const;
  void send(SimEnv& env, std::vector<Message>& messages);
  void persist(const Ready& rd);
  // Persists a random prefix of what `rd` asks (snapshot, then entries; never the hard state,
  // which comes last), as a process killed in the middle of its write would leave it.
  void persist_torn(const Ready& rd, sim::Rng& rng);
  void apply(SimEnv& env, const Ready& rd);
  void handle_request(SimEnv& env, EndpointId from, const ClientRequest& request);
  void reply(SimEnv& env, EndpointId to, const ClientRequest& request, bool ok, uint64_t value);
  void serve_reads(SimEnv& env);
  void maybe_persist_state_machine(sim::Rng& rng);
  void maybe_compact();

  // Images received with kSnapshot messages, by index, until the core says to restore one.
  static constexpr size_t kStagedImagesMax = 4;

  Cluster& cluster_;
  NodeId id_;
  Disk disk_;
  DiskStorage storage_{*this};
  std::map<Index, std::shared_ptr<const std::string>> staged_images_;
  std::pair<Index, std::shared_ptr<const std::string>> last_image_;  // made for sending
  RngAdapter rng_;
  std::unique_ptr<Raft> raft_;
  KvStore kv_;
  Index applied_index_ = 0;
  uint64_t applied_chain_ = 0;
  Index checked_commit_ = 0;
  Term leader_checked_term_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, EndpointId> pending_writes_;
  std::map<uint64_t, std::pair<EndpointId, ClientRequest>> pending_reads_;
  std::vector<WaitingRead> waiting_reads_;
  uint64_t next_read_id_ = 1;
  uint64_t reads_served_ = 0;
};

class Client : public sim::Actor<SimMsg> {
 public:
  Client(Cluster& cluster, uint64_t client_id);
  void on_message(SimEnv& env, EndpointId from, SimMsg msg) override;
  void on_tick(SimEnv& env) override;
  void on_crash() override {}
  void on_restart(SimEnv&) override {}

 private:
  void send_current(SimEnv& env);

  Cluster& cluster_;
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

class Controller : public sim::Actor<SimMsg> {
 public:
  explicit Controller(Cluster& cluster) : cluster_(cluster) {}
  void on_message(SimEnv&, EndpointId, SimMsg) override {}
  void on_tick(SimEnv& env) override;
  void on_crash() override {}
  void on_restart(SimEnv&) override {}

 private:
  void propose_change(SimEnv& env, NodeId leader);

  Cluster& cluster_;
};

class Cluster {
 public:
  Cluster(uint64_t seed, ClusterOptions options);

  sim::Simulation<SimMsg>& sim() { return sim_; }
  const ClusterOptions& options() const { return options_; }
  Checker& checker() { return checker_; }
  ClusterStats& stats() { return stats_; }
  std::vector<HistoryOp>& history() { return history_; }
  uint64_t next_event() { return ++events_; }

  // Runs `steps` events with the invariants checked after each.
  sim::RunResult run(uint64_t steps);
  // Runs until `done()` or `steps_max` events; invariants checked after each.
  sim::RunResult run_until(uint64_t steps_max, const std::function<bool()>& done);
  std::string check_step();
  // Ends the faults: no more crashes, cuts, pauses, transfers or membership changes; every
  // server is restarted. Drops, duplicates and delays stay: the network is still lossy.
  void quiesce();
  bool quiesced() const { return quiesced_; }
  // The linearizability check of the whole history; empty when it passes.
  std::string check_history();

  size_t servers() const { return nodes_.size(); }
  // REQUIRES: 1 <= id <= servers().
  RaftNode& node(NodeId id) { return *nodes_[id - 1]; }
  static EndpointId endpoint(NodeId id) { return static_cast<EndpointId>(id - 1); }
  // The up leader with the highest term, or kNoNode.
  NodeId leader();
  SimEnv env_for(NodeId id) { return SimEnv{sim_.now(), endpoint(id), sim_.net(), sim_.rng()}; }
  // Steps an input into a node's core and drains its effects (for scenario scripts).
  template <class F>
  void with_node(NodeId id, F f) {
    SimEnv env = env_for(id);
    f(node(id).raft());
    node(id).flush(env);
  }
  size_t completed_ops() const;

 private:
  ClusterOptions options_;
  sim::Simulation<SimMsg> sim_;
  Checker checker_;
  std::vector<std::unique_ptr<RaftNode>> nodes_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::unique_ptr<Controller> controller_;
  std::vector<HistoryOp> history_;
  uint64_t events_ = 0;
  ClusterStats stats_;
  bool quiesced_ = false;
};

}  // namespace tessera::raft::sim_harness
