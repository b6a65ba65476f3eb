// Simulation<Msg>: runs protocol actors on a fake clock and a fake network from one seed.
//
// Purpose: the deterministic harness for IO-free protocol cores (Raft today; gossip and the
// quorum coordinator later). Each step is one event: the delivery of one message, one actor's
// tick, or one fault (crash, restart, partition, one-way cut, heal). After every step the
// caller's checker runs; the first failure stops the run and is reported as
// "TESSERA_SEED=<seed> step=<n>: <what>", and running the same seed again replays it exactly.
// Crash semantics are the actor's: on_crash() must drop everything not made durable.
// Thread-safety: none; one thread drives a run. Ownership: actors are borrowed and must
// outlive the simulation; the simulation owns the clock, the network and the Rng.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tessera/sim/network.h"
#include "tessera/sim/rng.h"

namespace tessera::sim {

template <class Msg>
class Simulation;

// What an actor sees of the world during one event.
template <class Msg>
struct Env {
  Time now;
  EndpointId self;
  Network<Msg>& net;
  Rng& rng;

  void send(EndpointId to, Msg msg) { net.send(now, self, to, std::move(msg)); }
};

template <class Msg>
class Actor {
 public:
  virtual ~Actor() = default;
  virtual void on_message(Env<Msg>& env, EndpointId from, Msg msg) = 0;
  virtual void on_tick(Env<Msg>& env) = 0;
  // Lose all volatile state: the process died (kill -9).
  virtual void on_crash() = 0;
  // Come back from durable state only.
  virtual void on_restart(Env<Msg>& env) = 0;
};

// Per-step fault probabilities. Faults touch only the endpoints listed in `targets`.
struct FaultConfig {
  std::vector<EndpointId> targets;
  double crash = 0.0;
  double restart = 0.0;
  double partition = 0.0;  // split targets into two random sides, both directions
  double one_way = 0.0;    // cut one random directed link
  double heal = 0.0;       // remove every cut
  double pause = 0.0;      // freeze a target (a long GC pause, a stalled VM): it neither ticks
                           // nor receives until pause_max later, then resumes where it was
  Time pause_max = 0;
  size_t crashed_max = 1;  // never more than this many targets down at once
  // Clock drift: each actor ticks every tick_interval scaled by a factor drawn once from
  // [1 - drift, 1 + drift], so timers on different nodes disagree as on real machines.
  double drift = 0.0;
};

struct RunResult {
  bool ok = true;
  uint64_t seed = 0;
  uint64_t step = 0;
  std::string message;  // "TESSERA_SEED=<seed> step=<n>: <what>" on failure
};

template <class Msg>
class Simulation {
 public:
  // Returns an empty string when every invariant holds after the given step.
  using Checker = std::function<std::string(uint64_t step)>;

  Simulation(uint64_t seed, size_t endpoints_count, Time tick_interval)
      : seed_(seed),
        rng_(seed),
        net_rng_(rng_.fork()),
        net_(net_rng_, endpoints_count),
        tick_interval_(tick_interval),
        slots_(endpoints_count) {}

  uint64_t seed() const { return seed_; }
  Time now() const { return now_; }
  uint64_t steps_done() const { return step_; }
  Rng& rng() { return rng_; }
  Network<Msg>& net() { return net_; }
  // Also draws each actor's clock drift; call after add_actor.
  void set_faults(FaultConfig faults) {
    faults_ = std::move(faults);
    for (Slot& slot : slots_) {
      if (slot.actor == nullptr || faults_.drift <= 0.0) continue;
      const double factor = 1.0 - faults_.drift +
                            2.0 * faults_.drift * static_cast<double>(rng_.uniform(1001)) / 1000.0;
      slot.interval =
          std::max<Time>(1, static_cast<Time>(static_cast<double>(tick_interval_) * factor));
    }
  }

  // Freezes an actor until `until`: no ticks, and messages to it wait.
  void pause(EndpointId id, Time until) {
    Slot& slot = slots_[id];
    slot.paused_until = std::max(slot.paused_until, until);
    slot.next_tick = std::max(slot.next_tick, until);
  }
  // Whether an actor is frozen by pause() at the current time.
  bool is_paused(EndpointId id) const { return slots_[id].paused_until > now_; }
  const FaultConfig& faults() const { return faults_; }

  // REQUIRES: id < endpoints_count; actor outlives the simulation.
  void add_actor(EndpointId id, Actor<Msg>* actor) {
    Slot& slot = slots_[id];
    slot.actor = actor;
    slot.up = true;
    slot.interval = tick_interval_;
    // Spread tick phases so that actors do not tick in lock step.
    slot.next_tick = now_ + 1 + rng_.uniform(tick_interval_);
  }

  bool is_up(EndpointId id) const { return slots_[id].actor != nullptr && slots_[id].up; }

  void crash(EndpointId id) {
    Slot& slot = slots_[id];
    if (slot.actor == nullptr || !slot.up) return;
    slot.up = false;
    slot.actor->on_crash();
  }

  void restart(EndpointId id) {
    Slot& slot = slots_[id];
    if (slot.actor == nullptr || slot.up) return;
    slot.up = true;
    slot.next_tick = now_ + 1 + rng_.uniform(tick_interval_);
    Env<Msg> env{now_, id, net_, rng_};
    slot.actor->on_restart(env);
  }

  // Runs one event. Returns false when nothing is left to happen.
  bool step() {
    ++step_;
    if (maybe_fault()) return true;
    std::optional<Time> due = net_.next_due();
    EndpointId ticker = 0;
    std::optional<Time> tick_at;
    for (EndpointId id = 0; id < slots_.size(); ++id) {
      const Slot& slot = slots_[id];
      if (slot.actor == nullptr || !slot.up) continue;
      if (!tick_at || slot.next_tick < *tick_at) {
        tick_at = slot.next_tick;
        ticker = id;
      }
    }
    if (due && (!tick_at || *due <= *tick_at)) {
      now_ = std::max(now_, *due);
      if (!net_.pop_due(now_, &envelope_)) return true;  // it was cut in flight
      Slot& slot = slots_[envelope_.to];
      if (slot.actor == nullptr || !slot.up) return true;  // lost at a dead process
      if (slot.paused_until > now_) {
        net_.redeliver_at(slot.paused_until, std::move(envelope_));
        return true;
      }
      Env<Msg> env{now_, envelope_.to, net_, rng_};
      slot.actor->on_message(env, envelope_.from, std::move(envelope_.msg));
      return true;
    }
    if (!tick_at) return false;
    now_ = std::max(now_, *tick_at);
    Slot& slot = slots_[ticker];
    slot.next_tick = now_ + slot.interval;
    Env<Msg> env{now_, ticker, net_, rng_};
    slot.actor->on_tick(env);
    return true;
  }

  // Runs up to `steps` events, checking after each one.
  RunResult run(uint64_t steps, const Checker& check) {
    for (uint64_t i = 0; i < steps; ++i) {
      if (!step()) break;
      if (check) {
        std::string failure = check(step_);
        if (!failure.empty()) return fail(failure);
      }
    }
    return RunResult{true, seed_, step_, {}};
  }

  RunResult fail(const std::string& what) const {
    return RunResult{
        false, seed_, step_,
        "TESSERA_SEED=" + std::to_string(seed_) + " step=" + std::to_string(step_) + ": " + what};
  }

 private:
  struct Slot {
    Actor<Msg>* actor = nullptr;
    bool up = false;
    Time next_tick = 0;
    Time interval = 1;
    Time paused_until = 0;
  };

  bool maybe_fault() {
    const std::vector<EndpointId>& targets = faults_.targets;
    if (targets.empty()) return false;
    if (rng_.chance(faults_.crash)) {
      size_t down = 0;
      for (EndpointId id : targets) down += is_up(id) ? 0 : 1;
      if (down < faults_.crashed_max) {
        crash(targets[rng_.uniform(targets.size())]);
        return true;
      }
    }
    if (rng_.chance(faults_.restart)) {
      restart(targets[rng_.uniform(targets.size())]);
      return true;
    }
    if (rng_.chance(faults_.partition)) {
      std::vector<EndpointId> a;
      std::vector<EndpointId> b;
      for (EndpointId id : targets) (rng_.chance(0.5) ? a : b).push_back(id);
      net_.partition(a, b, true);
      return true;
    }
    if (rng_.chance(faults_.one_way) && targets.size() > 1) {
      EndpointId from = targets[rng_.uniform(targets.size())];
      EndpointId to = targets[rng_.uniform(targets.size())];
      if (from != to) net_.set_cut(from, to, true);
      return true;
    }
    if (rng_.chance(faults_.pause) && faults_.pause_max > 0) {
      pause(targets[rng_.uniform(targets.size())], now_ + 1 + rng_.uniform(faults_.pause_max));
      return true;
    }
    if (rng_.chance(faults_.heal)) {
      net_.heal();
      return true;
    }
    return false;
  }

  uint64_t seed_;
  Rng rng_;
  Rng net_rng_;
  Network<Msg> net_;
  Time tick_interval_;
  Time now_ = 0;
  uint64_t step_ = 0;
  std::vector<Slot> slots_;
  FaultConfig faults_;
  Envelope<Msg> envelope_;  // the message being delivered; a member to avoid a copy per step
};

}  // namespace tessera::sim
