// Cluster: simulated gossip nodes on tessera::sim, with the membership checkers.
//
// Purpose: GossipNode drives one gossip::Gossip core (step, tick, drain onto the fake network);
// a crash loses the core, a restart builds a new one with a higher starting incarnation (the
// host's job, see options.h). Cluster owns the simulation, makes nodes leave at random, stops a
// node once its leave is done, and after every step checks four properties against the bounds
// in Bounds: completeness, accuracy, leave safety, and (after quiesce) convergence.
// Thread-safety: none. Ownership: the Cluster owns the simulation and every actor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gossip/gossip.h"
#include "tessera/sim/simulation.h"

namespace tessera::gossip::sim_harness {

using sim::EndpointId;
using SimEnv = sim::Env<Message>;

struct ClusterOptions {
  size_t nodes = 5;
  std::vector<EndpointId> seeds;  // empty: every node is a seed
  Options gossip;                 // id, address, seeds and incarnation_start are set per node
  sim::LinkConfig link;
  sim::FaultConfig faults;  // targets default to every node when left empty
  bool faults_on = true;
  double leave_chance = 0.0;  // per step: a random live node leaves
  size_t live_min = 3;        // nobody leaves when it would leave fewer live nodes
  sim::Time tick_interval = 10;
};

// The bounds the checkers hold the protocol to, in ticks of the observing node; Cluster turns
// them into simulated time with the worst clock drift.
struct Bounds {
  uint64_t detection_ticks = 0;    // crash -> dead in every live view that knows the node
  uint64_t accuracy_ticks = 0;     // reachable node declared dead by a majority, at most this long
  uint64_t convergence_ticks = 0;  // faults stop -> every live view agrees
};

// SWIM's bound for a round-robin prober: at most 2(n-1) probe periods until the crashed node
// is probed, one period for that probe to fail, then the suspicion timeout.
Bounds bounds_for(const Options& options, size_t nodes);

// What a run exercised and the worst latencies seen, to show coverage and margins.
struct ClusterStats {
  uint64_t messages = 0;
  uint64_t entries_max = 0;  // largest message seen, in entries
  uint64_t leaves = 0;
  uint64_t rejoins = 0;  // restarts of a node that had left
  uint64_t dead_events = 0;
  uint64_t forgotten_events = 0;
  uint64_t refutations = 0;  // incarnation raised by a live node
  sim::Time detection_max = 0;
  sim::Time false_dead_max = 0;
  sim::Time convergence = 0;
};

class Cluster;

class GossipNode : public sim::Actor<Message> {
 public:
  GossipNode(Cluster& cluster, EndpointId endpoint);

  void on_message(SimEnv& env, EndpointId from, Message msg) override;
  void on_tick(SimEnv& env) override;
  void on_crash() override;
  void on_restart(SimEnv& env) override;

  bool up() const { return core_ != nullptr; }
  // REQUIRES: up().
  Gossip& core() { return *core_; }
  const Gossip& core() const { return *core_; }
  bool stopped_by_leave() const { return stopped_by_leave_; }
  void leave(SimEnv& env);
  void flush(SimEnv& env);

 private:
  class CoreRng : public Rng {
   public:
    explicit CoreRng(uint64_t seed) : rng_(seed) {}
    uint64_t uniform(uint64_t n) override { return rng_.uniform(n); }

   private:
    sim::Rng rng_;
  };
  void start(sim::Time now, uint64_t rng_seed);

  Cluster& cluster_;
  EndpointId endpoint_;
  std::unique_ptr<CoreRng> rng_;
  std::unique_ptr<Gossip> core_;
  bool stopped_by_leave_ = false;
  uint64_t incarnation_seen_ = 0;
};

class Cluster {
 public:
  Cluster(uint64_t seed, ClusterOptions options);

  // Runs up to `steps` events with every checker after each; stops at the first violation.
  // Both runs also stop nodes whose leave is done and, per leave_chance, make nodes leave.
  sim::RunResult run(uint64_t steps);
  // Runs until done() holds (checked after each step), failing after steps_max.
  sim::RunResult run_until(uint64_t steps_max, const std::function<bool()>& done);
  // Faults stop: links heal and lose nothing (delay, duplication, reordering stay), pauses end,
  // crashed nodes restart; nodes that left stay gone. Then runs until every live view agrees
  // and is settled, failing past the convergence bound; then `stable_ticks` more with the
  // views still agreeing (a passing suspicion allowed).
  sim::RunResult converge(uint64_t stable_ticks);

  // "" when every live node's view holds exactly the live nodes as alive or suspect (as alive
  // only, when `settled`: no suspicion pending that could still time out), with their
  // addresses; else the first disagreement.
  std::string convergence_gap(bool settled = false) const;

  static std::string id_of(EndpointId e) { return "node-" + std::to_string(e); }
  static std::string address_of(EndpointId e) { return "10.0.0." + std::to_string(e) + ":7946"; }
  std::optional<EndpointId> endpoint_of(const std::string& address) const;

  bool live(EndpointId e) const;
  size_t size() const { return nodes_.size(); }
  GossipNode& node(EndpointId e) { return *nodes_[e]; }
  sim::Simulation<Message>& sim() { return sim_; }
  const ClusterOptions& options() const { return options_; }
  const Bounds& bounds() const { return bounds_; }
  const ClusterStats& stats() const { return stats_; }
  ClusterStats& mutable_stats() { return stats_; }
  // Options for the core at `e`, starting at incarnation `incarnation_start`.
  Options node_options(EndpointId e, uint64_t incarnation_start) const;
  sim::Time to_time(uint64_t ticks) const;

 private:
  struct Watch {  // what the checkers remember per node, updated after every step
    bool live = false;
    bool active = false;     // live and not paused
    bool reachable = false;  // active and no cut link to or from any live node
    sim::Time down_since = 0;
    sim::Time active_since = 0;
    sim::Time reachable_since = 0;
    bool dead_by_majority = false;
    sim::Time dead_by_majority_since = 0;
    // Per other node, since this node last started: while in its view, and the highest
    // incarnation its view has seen the other node leave at (kept after forgetting).
    std::vector<std::optional<sim::Time>> knows_since;
    std::vector<std::optional<uint64_t>> left_seen;
  };

  std::string check();
  std::string check_views(EndpointId observer);
  std::string check_accuracy(EndpointId e);
  void update_watch(EndpointId e);
  void maybe_leave();

  ClusterOptions options_;
  Bounds bounds_;
  sim::Simulation<Message> sim_;
  std::vector<std::unique_ptr<GossipNode>> nodes_;
  std::vector<Watch> watch_;
  ClusterStats stats_;
  bool quiet_ = false;  // converge() started: nobody leaves any more
};

}  // namespace tessera::gossip::sim_harness
