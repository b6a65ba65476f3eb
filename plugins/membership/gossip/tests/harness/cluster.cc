#include "harness/cluster.h"

#include <algorithm>
#include <cmath>

namespace tessera::gossip::sim_harness {

Bounds bounds_for(const Options& o, size_t nodes) {
  Bounds b;
  const uint64_t others = nodes - 1;
  b.detection_ticks = (2 * others + 1) * o.probe_interval_ticks + o.suspicion_ticks + 1;
  // A reachable node learns it is declared dead at its next exchange with a member that says so
  // (at worst a probe pass, or the next seed round when it thinks itself alone); its refutation
  // then spreads like any news. The margin covers lost messages.
  b.accuracy_ticks = 2 * others * o.probe_interval_ticks + 2 * o.join_retry_ticks +
                     2 * o.reconnect_interval_ticks + 100;
  b.convergence_ticks = b.detection_ticks + b.accuracy_ticks;
  return b;
}

// ---- GossipNode ----

GossipNode::GossipNode(Cluster& cluster, EndpointId endpoint)
    : cluster_(cluster), endpoint_(endpoint) {
  start(0, cluster.sim().rng().next_u64());
}

void GossipNode::start(sim::Time now, uint64_t rng_seed) {
  rng_ = std::make_unique<CoreRng>(rng_seed);
  // A host would use a persisted counter or its boot time: anything above every incarnation
  // this id used before. Simulated time only grows, and one life never refutes 2^16 times.
  const uint64_t incarnation_start = now << 16;
  core_ = std::make_unique<Gossip>(cluster_.node_options(endpoint_, incarnation_start), *rng_);
  incarnation_seen_ = incarnation_start;
  stopped_by_leave_ = false;
  core_->join();
}

void GossipNode::on_message(SimEnv& env, EndpointId, Message msg) {
  if (core_ == nullptr) return;
  core_->step(msg);
  flush(env);
}

void GossipNode::on_tick(SimEnv& env) {
  if (core_ == nullptr) return;
  core_->tick();
  flush(env);
  if (core_->leave_done()) stopped_by_leave_ = true;  // the cluster stops it after this step
}

void GossipNode::on_crash() {
  core_.reset();
  rng_.reset();
}

void GossipNode::on_restart(SimEnv& env) {
  if (stopped_by_leave_) ++cluster_.mutable_stats().rejoins;
  start(env.now, env.rng.next_u64());
  flush(env);
}

void GossipNode::leave(SimEnv& env) {
  core_->leave();
  ++cluster_.mutable_stats().leaves;
  flush(env);
}

void GossipNode::flush(SimEnv& env) {
  Effects effects = core_->drain();
  ClusterStats& stats = cluster_.mutable_stats();
  for (Outgoing& out : effects.messages) {
    ++stats.messages;
    stats.entries_max = std::max<uint64_t>(stats.entries_max, out.message.entries.size());
    if (std::optional<EndpointId> to = cluster_.endpoint_of(out.address)) {
      env.send(*to, std::move(out.message));
    }
  }
  for (const Event& event : effects.events) {
    if (event.kind == EventKind::kDead) ++stats.dead_events;
    if (event.kind == EventKind::kForgotten) ++stats.forgotten_events;
  }
  if (core_->self().incarnation > incarnation_seen_) {
    incarnation_seen_ = core_->self().incarnation;
    if (core_->self().status == MemberStatus::kAlive) ++stats.refutations;
  }
}

// ---- Cluster ----

Cluster::Cluster(uint64_t seed, ClusterOptions options)
    : options_(std::move(options)),
      bounds_(bounds_for(options_.gossip, options_.nodes)),
      sim_(seed, options_.nodes, options_.tick_interval),
      watch_(options_.nodes) {
  if (options_.seeds.empty()) {
    for (EndpointId e = 0; e < options_.nodes; ++e) options_.seeds.push_back(e);
  }
  if (options_.faults.targets.empty()) {
    for (EndpointId e = 0; e < options_.nodes; ++e) options_.faults.targets.push_back(e);
  }
  for (EndpointId e = 0; e < options_.nodes; ++e) {
    nodes_.push_back(std::make_unique<GossipNode>(*this, e));
    sim_.add_actor(e, nodes_.back().get());
    watch_[e].knows_since.resize(options_.nodes);
    watch_[e].left_seen.resize(options_.nodes);
  }
  sim_.net().set_all_links(options_.link);
  if (options_.faults_on) sim_.set_faults(options_.faults);
}

Options Cluster::node_options(EndpointId e, uint64_t incarnation_start) const {
  Options o = options_.gossip;
  o.id = id_of(e);
  o.address = address_of(e);
  o.incarnation_start = incarnation_start;
  o.seeds.clear();
  for (EndpointId s : options_.seeds) o.seeds.push_back(address_of(s));
  return o;
}

std::optional<EndpointId> Cluster::endpoint_of(const std::string& address) const {
  for (EndpointId e = 0; e < nodes_.size(); ++e) {
    if (address_of(e) == address) return e;
  }
  return std::nullopt;
}

sim::Time Cluster::to_time(uint64_t ticks) const {
  const double drift = options_.faults_on ? options_.faults.drift : 0.0;
  const double interval = static_cast<double>(options_.tick_interval) * (1.0 + drift);
  // One more tick for the phase of the first tick, and a message delay for the last news.
  return static_cast<sim::Time>(std::ceil(static_cast<double>(ticks + 1) * interval)) +
         options_.link.delay_max + options_.link.reorder_delay_max;
}

bool Cluster::live(EndpointId e) const {
  return sim_.is_up(e) && nodes_[e]->up() && !nodes_[e]->stopped_by_leave();
}

sim::RunResult Cluster::run(uint64_t steps) { return run_until(steps, nullptr); }

sim::RunResult Cluster::run_until(uint64_t steps_max, const std::function<bool()>& done) {
  for (uint64_t i = 0; i < steps_max; ++i) {
    if (!sim_.step()) break;
    for (EndpointId e = 0; e < nodes_.size(); ++e) {
      if (sim_.is_up(e) && nodes_[e]->stopped_by_leave()) sim_.crash(e);
    }
    maybe_leave();
    if (std::string failure = check(); !failure.empty()) {
      return sim_.fail(failure);
    }
    if (done && done()) return sim::RunResult{true, sim_.seed(), sim_.steps_done(), {}};
  }
  if (!done) return sim::RunResult{true, sim_.seed(), sim_.steps_done(), {}};
  return sim_.fail("condition not reached within " + std::to_string(steps_max) + " steps");
}

void Cluster::maybe_leave() {
  if (quiet_ || options_.leave_chance <= 0.0 || !sim_.rng().chance(options_.leave_chance)) return;
  std::vector<EndpointId> members;
  for (EndpointId e = 0; e < nodes_.size(); ++e) {
    if (live(e) && nodes_[e]->core().self().status != MemberStatus::kLeft) members.push_back(e);
  }
  if (members.size() <= options_.live_min) return;
  const EndpointId e = members[sim_.rng().uniform(members.size())];
  SimEnv env{sim_.now(), e, sim_.net(), sim_.rng()};
  nodes_[e]->leave(env);
}

sim::RunResult Cluster::converge(uint64_t stable_ticks) {
  quiet_ = true;
  sim_.set_faults(sim::FaultConfig{});
  sim_.net().heal();
  sim::LinkConfig lossless = options_.link;
  lossless.drop = 0.0;
  sim_.net().set_all_links(lossless);
  // Pauses end and leaves in progress finish (the leaver stops) before the clock starts.
  auto settling = [&] {
    for (EndpointId e = 0; e < nodes_.size(); ++e) {
      if (sim_.is_paused(e)) return true;
      if (live(e) && nodes_[e]->core().self().status == MemberStatus::kLeft) return true;
    }
    return false;
  };
  sim::RunResult r = run_until(10'000'000, [&] { return !settling(); });
  if (!r.ok) return r;
  for (EndpointId e = 0; e < nodes_.size(); ++e) {
    if (!sim_.is_up(e) && !nodes_[e]->stopped_by_leave()) sim_.restart(e);
  }
  const sim::Time start = sim_.now();
  const sim::Time bound = to_time(bounds_.convergence_ticks);
  r = run_until(10'000'000,
                [&] { return convergence_gap(true).empty() || sim_.now() - start > bound; });
  if (!r.ok) return r;
  if (std::string gap = convergence_gap(true); !gap.empty()) {
    return sim_.fail("no convergence within " + std::to_string(bound) + " after faults: " + gap);
  }
  stats_.convergence = std::max(stats_.convergence, sim_.now() - start);
  const sim::Time stable_until = sim_.now() + to_time(stable_ticks);
  std::string lost;
  r = run_until(10'000'000, [&] {
    lost = convergence_gap();
    return !lost.empty() || sim_.now() >= stable_until;
  });
  if (!r.ok) return r;
  if (!lost.empty()) return sim_.fail("views disagreed again after converging: " + lost);
  return r;
}

std::string Cluster::convergence_gap(bool settled) const {
  auto member = [&](EndpointId e) {
    return live(e) && nodes_[e]->core().self().status != MemberStatus::kLeft;
  };
  for (EndpointId o = 0; o < nodes_.size(); ++o) {
    if (!member(o)) continue;
    for (EndpointId x = 0; x < nodes_.size(); ++x) {
      if (x == o) continue;
      const Member* m = nodes_[o]->core().find(id_of(x));
      const bool in_view =
          m != nullptr && (settled ? m->status == MemberStatus::kAlive : is_live(m->status));
      if (in_view != member(x)) {
        return id_of(o) + " sees " + id_of(x) + " as " +
               (m == nullptr ? "absent" : std::string(to_string(m->status))) + " but it is " +
               (member(x) ? "a live member" : "gone");
      }
      if (in_view && m->address != address_of(x)) {
        return id_of(o) + " has a wrong address for " + id_of(x) + ": " + m->address;
      }
    }
  }
  return {};
}

// ---- checkers ----

std::string Cluster::check() {
  for (EndpointId e = 0; e < nodes_.size(); ++e) update_watch(e);
  for (EndpointId e = 0; e < nodes_.size(); ++e) {
    if (!live(e)) continue;
    if (std::string f = check_views(e); !f.empty()) return f;
  }
  for (EndpointId e = 0; e < nodes_.size(); ++e) {
    if (std::string f = check_accuracy(e); !f.empty()) return f;
  }
  return {};
}

void Cluster::update_watch(EndpointId e) {
  Watch& w = watch_[e];
  const sim::Time now = sim_.now();
  const bool is_live = live(e);
  const bool active = is_live && !sim_.is_paused(e);
  bool reachable = active;
  for (EndpointId j = 0; reachable && j < nodes_.size(); ++j) {
    if (j != e && live(j) && (sim_.net().is_cut(e, j) || sim_.net().is_cut(j, e))) {
      reachable = false;
    }
  }
  if (w.live && !is_live) w.down_since = now;
  if (!w.active && active) w.active_since = now;
  if (!w.live && is_live) {  // a new life: a fresh view with nothing seen yet
    std::fill(w.knows_since.begin(), w.knows_since.end(), std::nullopt);
    std::fill(w.left_seen.begin(), w.left_seen.end(), std::nullopt);
  }
  if (!w.reachable && reachable) w.reachable_since = now;
  w.live = is_live;
  w.active = active;
  w.reachable = reachable;
}

// Leave safety and completeness, as seen by one live observer.
std::string Cluster::check_views(EndpointId o) {
  const Gossip& g = nodes_[o]->core();
  const sim::Time now = sim_.now();
  for (EndpointId x = 0; x < nodes_.size(); ++x) {
    if (x == o) continue;
    const Member* m = g.find(id_of(x));
    std::optional<sim::Time>& knows_since = watch_[o].knows_since[x];
    if (m == nullptr) {
      knows_since.reset();
      continue;
    }
    if (!knows_since) knows_since = now;
    std::optional<uint64_t>& left_seen = watch_[o].left_seen[x];
    if (m->status == MemberStatus::kLeft) {
      left_seen = std::max(left_seen.value_or(0), m->incarnation);
    }
    if (!is_live(m->status)) continue;
    if (left_seen && m->incarnation <= *left_seen) {
      return id_of(o) + " sees " + id_of(x) + " " + std::string(to_string(m->status)) +
             " at incarnation " + std::to_string(m->incarnation) + " after seeing it leave at " +
             std::to_string(*left_seen);
    }
    const Watch& wx = watch_[x];
    if (!wx.live && watch_[o].active) {
      const sim::Time since = std::max({wx.down_since, watch_[o].active_since, *knows_since});
      const sim::Time elapsed = now - since;
      stats_.detection_max = std::max(stats_.detection_max, elapsed);
      if (elapsed > to_time(bounds_.detection_ticks)) {
        return id_of(x) + " is down since " + std::to_string(wx.down_since) + " but " + id_of(o) +
               " still sees it " + std::string(to_string(m->status)) + " after " +
               std::to_string(elapsed) + " (bound " +
               std::to_string(to_time(bounds_.detection_ticks)) + ")";
      }
    }
  }
  return {};
}

// Accuracy: a node that is up and reachable is not declared dead by a majority for long.
std::string Cluster::check_accuracy(EndpointId x) {
  Watch& w = watch_[x];
  if (!w.reachable || nodes_[x]->core().self().status == MemberStatus::kLeft) {
    w.dead_by_majority = false;
    return {};
  }
  size_t voters = 1;  // x itself, which never declares itself dead
  size_t dead_votes = 0;
  for (EndpointId o = 0; o < nodes_.size(); ++o) {
    if (o == x || !watch_[o].active) continue;
    ++voters;
    const Member* m = nodes_[o]->core().find(id_of(x));
    if (m != nullptr && !is_live(m->status)) ++dead_votes;
  }
  if (2 * dead_votes <= voters) {
    w.dead_by_majority = false;
    return {};
  }
  if (!w.dead_by_majority) {
    w.dead_by_majority = true;
    w.dead_by_majority_since = sim_.now();
  }
  const sim::Time elapsed = sim_.now() - std::max(w.dead_by_majority_since, w.reachable_since);
  stats_.false_dead_max = std::max(stats_.false_dead_max, elapsed);
  if (elapsed > to_time(bounds_.accuracy_ticks)) {
    return id_of(x) + " is up and reachable since " + std::to_string(w.reachable_since) + " but " +
           std::to_string(dead_votes) + " of " + std::to_string(voters) +
           " nodes have declared it dead for " + std::to_string(elapsed);
  }
  return {};
}

}  // namespace tessera::gossip::sim_harness
