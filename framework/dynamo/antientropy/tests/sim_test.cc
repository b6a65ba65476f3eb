// Simulation of anti-entropy between replicas of one token range on tessera::sim, over many
// seeds.
//
// 2 or 3 replicas start from one set of keys with random divergences: keys a replica misses,
// stale versions, tombstones (deletes) only one replica has, keys only one replica has; in some
// seeds one replica starts empty. Each replica keeps its keys durably (its "disk", one version
// per key, the higher number wins) and its Merkle tree in memory: a crash loses the tree and
// every session, a restart rebuilds the tree from the keys. Every replica starts a session with
// a random peer about every kSessionPeriodTicks; its host answers leaf reads at once or on a
// later tick, and carries PushKeys / FetchKeys out as messages of its own. During the faulty
// part, the network drops, duplicates, reorders and delays messages, replicas crash, restart,
// pause and get partitioned, and replicas take local writes that reach no one else. Then the
// faults and the writes stop.
//  - After every step: no checker failure; every 500 steps, each live replica's incremental
//    tree equals the tree rebuilt from its keys.
//  - Convergence: within kCleanRoundsMax session periods of the faults stopping, every replica
//    holds exactly the newest version of every key ever written anywhere, and all trees agree.
//  - Cost: the keys exchanged by sessions started after the faults stop are at most
//    kKeysPerDifferenceMax per differing (pair of replicas, key) at that moment plus
//    kKeysExchangedSlack, and the entries they send for comparison at most that many times the
//    fullest leaf: proportional to the differences, not to the range. (Sessions still running
//    when the faults stop may compare pages read before repairs landed, and repair again.)
// Failures print TESSERA_SEED=<n>; TESSERA_SEED=<n> replays one seed, TESSERA_SEED_FIRST and
// TESSERA_SEEDS pick a range, TESSERA_STEPS sets the length of the faulty part.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "replica_store.h"
#include "tessera/antientropy/session.h"
#include "tessera/sim/seeds.h"
#include "tessera/sim/simulation.h"

namespace tessera::antientropy {
namespace {

using sim::EndpointId;
using sim::Time;
using testing::ReplicaStore;
using testing::Version;

constexpr Time kTickInterval = 5;
constexpr uint64_t kSessionPeriodTicks = 30;
constexpr uint64_t kIdleTicks = 15;
constexpr size_t kSessionsPerReplicaMax = 4;
constexpr uint64_t kCleanRoundsMax = 40;
// Keys exchanged per difference after the faults stop: a push and a fetch, by each of the two
// sessions a pair may run at once (one each way). Plus a few sessions' worth that may compare a
// leaf again before an earlier repair has landed.
constexpr uint64_t kKeysPerDifferenceMax = 4;
constexpr uint64_t kKeysExchangedSlack = 16;
constexpr double kWriteChancePerTick = 0.05;

// The host's own messages: a replica merges pushed versions, and answers a fetch with a push.
struct PushVersions {
  std::vector<std::pair<Bytes, Version>> items;  // at most kEntriesPerPageMax
};
struct FetchVersions {
  std::vector<Bytes> keys;  // at most kEntriesPerPageMax
};
using SimMsg = std::variant<Message, PushVersions, FetchVersions>;

struct World {
  bool writes_on = true;
  uint64_t next_version = 1;
  std::map<Bytes, Version> newest;  // of every key, over every version ever written anywhere
  std::vector<Bytes> keys;          // what local writes pick from
  uint64_t next_key = 0;
  std::string violation;
  // Counts, for the summary and the cost checks.
  uint64_t sessions = 0;
  uint64_t in_sync = 0;
  uint64_t repaired = 0;
  uint64_t abandoned = 0;
  uint64_t partial = 0;
  uint64_t refused = 0;
  uint64_t ignored = 0;
  uint64_t keys_exchanged = 0;
  // By sessions started after the faults stopped: clean_sessions_after[i] is the count of
  // sessions replica i had started by then (none counts while the faults go on).
  std::vector<uint64_t> clean_sessions_after;
  uint64_t keys_exchanged_clean = 0;
  uint64_t entries_sent_clean = 0;

  Version write() { return Version{next_version++, false}; }
  void record(const Bytes& key, const Version& version) {
    Version& slot = newest[key];
    if (slot.number < version.number) slot = version;
  }
};

// Session ids carry their initiator, so that (peer, id) names one session on both sides.
SessionId session_id(EndpointId initiator, uint64_t counter) {
  return (uint64_t{initiator} << 48) | counter;
}
EndpointId initiator_of(SessionId id) { return static_cast<EndpointId>(id >> 48); }
uint64_t counter_of(SessionId id) { return id & ((uint64_t{1} << 48) - 1); }

bool started_clean(const World& world, SessionId id) {
  const EndpointId initiator = initiator_of(id);
  return initiator < world.clean_sessions_after.size() &&
         counter_of(id) > world.clean_sessions_after[initiator];
}

class Replica : public sim::Actor<SimMsg> {
 public:
  Replica(EndpointId self, size_t replicas, ReplicaStore store, World& world)
      : self_(self), replicas_(replicas), store_(std::move(store)), world_(world) {}

  const ReplicaStore& store() const { return store_; }
  bool up() const { return store_.has_tree(); }
  uint64_t sessions_started() const { return sessions_started_; }

  void on_message(sim::Env<SimMsg>& env, EndpointId from, SimMsg msg) override {
    if (auto* message = std::get_if<Message>(&msg)) {
      on_session_message(env, from, *message);
    } else if (auto* push = std::get_if<PushVersions>(&msg)) {
      for (const auto& [key, version] : push->items) store_.merge(key, version);
    } else {
      PushVersions reply;
      for (const Bytes& key : std::get<FetchVersions>(msg).keys) {
        if (std::optional<Version> version = store_.get(key))
          reply.items.emplace_back(key, *version);
      }
      if (!reply.items.empty()) env.send(from, std::move(reply));
    }
  }

  void on_tick(sim::Env<SimMsg>& env) override {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      Slot& slot = it->second;
      if (slot.pending_read && env.rng.chance(0.5)) {
        const ReadLeafEntries read = std::move(*slot.pending_read);
        slot.pending_read.reset();
        slot.session.leaf_entries_read(store_.read(read));
      }
      slot.session.tick();
      it = pump(env, it);
    }
    if (world_.writes_on && env.rng.chance(kWriteChancePerTick)) write(env);
    if (++ticks_ >= next_session_tick_) {
      next_session_tick_ = ticks_ + kSessionPeriodTicks / 2 + env.rng.uniform(kSessionPeriodTicks);
      start_session(env);
    }
  }

  void on_crash() override {
    sessions_.clear();
    store_.drop_tree();
  }
  void on_restart(sim::Env<SimMsg>&) override {
    store_.rebuild_tree();
    next_session_tick_ = ticks_ + kSessionPeriodTicks;
  }

 private:
  struct Slot {
    Session session;
    std::optional<ReadLeafEntries> pending_read;
  };
  using Sessions = std::map<std::pair<EndpointId, SessionId>, Slot>;

  void on_session_message(sim::Env<SimMsg>& env, EndpointId from, const Message& message) {
    const auto key = std::make_pair(from, message.session);
    auto it = sessions_.find(key);
    if (it != sessions_.end()) {
      it->second.session.step(message);
      pump(env, it);
      return;
    }
    std::optional<Session> accepted;
    if (initiator_of(message.session) == from && sessions_.size() < kSessionsPerReplicaMax) {
      accepted = Session::accept(message, store_.tree(), kIdleTicks);
    }
    if (!accepted) {
      ++world_.refused;  // a stale or duplicated message of a finished session, or too many
      return;
    }
    pump(env, sessions_.emplace(key, Slot{std::move(*accepted), std::nullopt}).first);
  }

  void start_session(sim::Env<SimMsg>& env) {
    if (sessions_.size() >= kSessionsPerReplicaMax) return;
    EndpointId peer = static_cast<EndpointId>(env.rng.uniform(replicas_ - 1));
    if (peer >= self_) ++peer;
    for (const auto& [key, slot] : sessions_) {
      if (key.first == peer && initiator_of(key.second) == self_) return;  // one at a time
    }
    const SessionId id = session_id(self_, ++sessions_started_);
    ++world_.sessions;
    auto it = sessions_.emplace(std::make_pair(peer, id),
                                Slot{Session(id, store_.tree(), kIdleTicks), std::nullopt});
    pump(env, it.first);
  }

  // Carries out the session's effects; returns the next session, dropping this one if done.
  Sessions::iterator pump(sim::Env<SimMsg>& env, Sessions::iterator it) {
    const EndpointId peer = it->first.first;
    Slot& slot = it->second;
    while (slot.session.has_effects()) {
      for (Effect& effect : slot.session.drain()) handle(env, peer, slot, effect);
    }
    if (!slot.session.done()) return std::next(it);
    world_.ignored += slot.session.stats().messages_ignored;
    return sessions_.erase(it);
  }

  void handle(sim::Env<SimMsg>& env, EndpointId peer, Slot& slot, Effect& effect) {
    if (auto* send = std::get_if<SendToPeer>(&effect)) {
      if (const auto* page = std::get_if<LeafPage>(&send->message.body)) {
        if (started_clean(world_, slot.session.id())) {
          world_.entries_sent_clean += page->entries.size();
        }
      }
      env.send(peer, std::move(send->message));
    } else if (auto* read = std::get_if<ReadLeafEntries>(&effect)) {
      if (env.rng.chance(0.5)) {
        slot.session.leaf_entries_read(store_.read(*read));
      } else {
        slot.pending_read = std::move(*read);  // a slow store: answered on a later tick
      }
    } else if (auto* push = std::get_if<PushKeys>(&effect)) {
      count_exchanged(slot, push->keys.size());
      PushVersions out;
      for (const Bytes& key : push->keys) {
        if (std::optional<Version> version = store_.get(key)) out.items.emplace_back(key, *version);
      }
      env.send(peer, std::move(out));
    } else if (auto* fetch = std::get_if<FetchKeys>(&effect)) {
      count_exchanged(slot, fetch->keys.size());
      env.send(peer, FetchVersions{std::move(fetch->keys)});
    } else {
      const Finished& finished = std::get<Finished>(effect);
      if (slot.session.role() != Session::Role::kInitiator) return;  // count each session once
      world_.partial += finished.partial ? 1 : 0;
      switch (finished.outcome) {
        case Outcome::kInSync:
          ++world_.in_sync;
          break;
        case Outcome::kRepaired:
          ++world_.repaired;
          break;
        case Outcome::kAbandoned:
          ++world_.abandoned;
          break;
      }
    }
  }

  void count_exchanged(const Slot& slot, uint64_t keys) {
    world_.keys_exchanged += keys;
    if (started_clean(world_, slot.session.id())) world_.keys_exchanged_clean += keys;
  }

  // A write that reaches this replica only: a new version, a delete, or a new key.
  void write(sim::Env<SimMsg>& env) {
    Bytes key;
    if (env.rng.chance(0.2)) {
      key = testing::key_in_range(store_.range(), "new", &world_.next_key);
      world_.keys.push_back(key);
    } else {
      key = world_.keys[env.rng.uniform(world_.keys.size())];
    }
    Version version = world_.write();
    version.deleted = env.rng.chance(0.2);
    store_.merge(key, version);
    world_.record(key, version);
  }

  const EndpointId self_;
  const size_t replicas_;
  ReplicaStore store_;
  World& world_;
  Sessions sessions_;  // at most kSessionsPerReplicaMax
  // Survives crashes: a real host would draw ids at random or add its incarnation.
  uint64_t sessions_started_ = 0;
  uint64_t ticks_ = 0;
  uint64_t next_session_tick_ = 0;
};

struct Setup {
  size_t replicas = 3;
  TokenRange range;
  TreeShape shape;
  std::vector<ReplicaStore> stores;
  size_t base_keys = 0;
};

TreeShape random_shape(sim::Rng& rng) {
  switch (rng.uniform(4)) {
    case 0:
      return {2, static_cast<uint32_t>(rng.range(3, 10))};
    case 1:
      return {4, static_cast<uint32_t>(rng.range(2, 5))};
    case 2:
      return {8, static_cast<uint32_t>(rng.range(1, 4))};
    default:
      return {16, static_cast<uint32_t>(rng.range(1, 3))};
  }
}

// The replicas' starting keys: one base set, diverging at random.
Setup make_setup(uint64_t seed, World& world) {
  sim::Rng rng(seed ^ 0x616e7469656e7472);  // apart from the simulation's stream
  Setup setup;
  setup.replicas = 2 + seed % 2;
  setup.shape = random_shape(rng);
  const uint64_t start = rng.next_u64();
  setup.range =
      rng.chance(0.2)
          ? TokenRange{start, start}
          : TokenRange{start, start + (uint64_t{1} << 61) + rng.uniform(uint64_t{3} << 61)};
  for (size_t i = 0; i < setup.replicas; ++i) setup.stores.emplace_back(setup.range, setup.shape);
  setup.base_keys = 100 + rng.uniform(1400);
  const double diverge = 0.002 + static_cast<double>(rng.uniform(40)) / 1000.0;
  // One replica starts empty in some seeds (`empty` == replicas: none does).
  const size_t empty = rng.chance(0.1) ? rng.uniform(setup.replicas) : setup.replicas;
  for (size_t k = 0; k < setup.base_keys; ++k) {
    const Bytes key = testing::key_in_range(setup.range, "base", &world.next_key);
    world.keys.push_back(key);
    const Version older = world.write();
    const Version current = world.write();
    const Version deleted{world.write().number, true};
    for (size_t i = 0; i < setup.replicas; ++i) {
      if (i == empty) continue;
      std::optional<Version> held = current;
      if (rng.chance(diverge))
        held.reset();  // missed the write
      else if (rng.chance(diverge))
        held = older;  // missed the latest write
      else if (rng.chance(diverge))
        held = deleted;  // the only one that saw the delete
      if (held) {
        setup.stores[i].merge(key, *held);
        world.record(key, *held);
      }
    }
  }
  // Keys only one replica has.
  for (size_t i = 0; i < setup.replicas; ++i) {
    const uint64_t extra = rng.uniform(1 + setup.base_keys / 50);
    for (uint64_t n = 0; n < extra; ++n) {
      const Bytes key = testing::key_in_range(setup.range, "extra", &world.next_key);
      const Version version = world.write();
      setup.stores[i].merge(key, version);
      world.record(key, version);
    }
  }
  return setup;
}

// Differing (pair of replicas, key): what anti-entropy has to repair.
uint64_t pair_differences(const std::vector<std::unique_ptr<Replica>>& replicas) {
  std::vector<std::map<Bytes, Version>> contents;
  for (const auto& replica : replicas) contents.push_back(replica->store().contents());
  uint64_t differences = 0;
  for (size_t i = 0; i < contents.size(); ++i) {
    for (size_t j = i + 1; j < contents.size(); ++j) {
      for (const auto& [key, version] : contents[i]) {
        auto it = contents[j].find(key);
        differences += (it == contents[j].end() || !(it->second == version)) ? 1 : 0;
      }
      for (const auto& [key, version] : contents[j]) differences += contents[i].count(key) ? 0 : 1;
    }
  }
  return differences;
}

// Keys in the fullest leaf of any replica.
uint64_t fullest_leaf(const std::vector<std::unique_ptr<Replica>>& replicas) {
  uint64_t fullest = 0;
  for (const auto& replica : replicas) {
    const MerkleTree& tree = replica->store().tree();
    std::vector<uint64_t> counts(tree.leaf_count(), 0);
    for (const auto& [key, version] : replica->store().contents()) {
      fullest = std::max(fullest, ++counts[tree.leaf_of(testing::token_of(key))]);
    }
  }
  return fullest;
}

// Empty when every replica holds exactly `newest` and all trees agree.
std::string convergence_failure(const std::vector<std::unique_ptr<Replica>>& replicas,
                                const std::map<Bytes, Version>& newest) {
  for (size_t i = 0; i < replicas.size(); ++i) {
    const std::map<Bytes, Version> contents = replicas[i]->store().contents();
    if (contents != newest) {
      for (const auto& [key, version] : newest) {
        auto it = contents.find(key);
        if (it == contents.end() || !(it->second == version)) {
          return "replica " + std::to_string(i) + " holds key " + key + " at " +
                 (it == contents.end() ? std::string("nothing")
                                       : std::to_string(it->second.number)) +
                 ", the newest is " + std::to_string(version.number);
        }
      }
      return "replica " + std::to_string(i) + " holds a key never written";
    }
    if (!(replicas[i]->store().tree() == replicas[0]->store().tree())) {
      return "replica " + std::to_string(i) + "'s tree differs with the same keys";
    }
  }
  return {};
}

struct SeedResult {
  std::string failure;
  World world;
  uint64_t differences = 0;
  uint64_t exchanged_clean = 0;
};

SeedResult run_seed(uint64_t seed, uint64_t steps) {
  SeedResult out;
  World& world = out.world;
  Setup setup = make_setup(seed, world);
  sim::Simulation<SimMsg> sim(seed, setup.replicas, kTickInterval);
  std::vector<std::unique_ptr<Replica>> replicas;
  for (size_t i = 0; i < setup.replicas; ++i) {
    replicas.push_back(std::make_unique<Replica>(static_cast<EndpointId>(i), setup.replicas,
                                                 std::move(setup.stores[i]), world));
    sim.add_actor(static_cast<EndpointId>(i), replicas.back().get());
  }
  sim.net().set_all_links(sim::LinkConfig{1, 10, 0.1, 0.05, 0.1, 50});
  sim::FaultConfig faults;
  for (size_t i = 0; i < setup.replicas; ++i) faults.targets.push_back(static_cast<EndpointId>(i));
  faults.crash = 0.001;
  faults.restart = 0.01;
  faults.crashed_max = 1;
  faults.partition = 0.0005;
  faults.one_way = 0.0005;
  faults.heal = 0.003;
  faults.pause = 0.0005;
  faults.pause_max = 60;
  faults.drift = 0.1;
  sim.set_faults(faults);

  auto checker = [&](uint64_t step) -> std::string {
    if (!world.violation.empty()) return world.violation;
    if (step % 500 != 0) return {};
    for (size_t i = 0; i < replicas.size(); ++i) {
      const ReplicaStore& store = replicas[i]->store();
      if (replicas[i]->up() && !(store.tree() == store.rebuilt_tree())) {
        return "replica " + std::to_string(i) + "'s incremental tree differs from a rebuild";
      }
    }
    return {};
  };
  sim::RunResult result = sim.run(steps, checker);
  if (!result.ok) {
    out.failure = result.message;
    return out;
  }

  // The faults and the writes stop; every replica comes back on a clean network.
  world.writes_on = false;
  sim.set_faults(sim::FaultConfig{});
  sim.net().heal();
  for (size_t i = 0; i < setup.replicas; ++i) sim.restart(static_cast<EndpointId>(i));
  sim.net().set_all_links(sim::LinkConfig{1, 10, 0.0, 0.0, 0.0, 0});
  out.differences = pair_differences(replicas);
  const uint64_t leaf_keys_max = fullest_leaf(replicas);
  for (const auto& replica : replicas) {
    world.clean_sessions_after.push_back(replica->sessions_started());
  }
  const Time deadline = sim.now() + kCleanRoundsMax * kSessionPeriodTicks * kTickInterval;
  std::string failure = convergence_failure(replicas, world.newest);
  while (!failure.empty() && sim.now() < deadline) {
    result = sim.run(100, checker);
    if (!result.ok) {
      out.failure = result.message;
      return out;
    }
    failure = convergence_failure(replicas, world.newest);
  }
  if (!failure.empty()) {
    out.failure = sim.fail("no convergence within " + std::to_string(kCleanRoundsMax) +
                           " session periods: " + failure)
                      .message;
    return out;
  }
  out.exchanged_clean = world.keys_exchanged_clean;
  const uint64_t entries_clean = world.entries_sent_clean;
  if (out.exchanged_clean > kKeysPerDifferenceMax * out.differences + kKeysExchangedSlack) {
    out.failure = sim.fail(std::to_string(out.exchanged_clean) + " keys exchanged for " +
                           std::to_string(out.differences) + " differences")
                      .message;
  } else if (entries_clean >
             (kKeysPerDifferenceMax * out.differences + kKeysExchangedSlack) * leaf_keys_max) {
    out.failure = sim.fail(std::to_string(entries_clean) + " entries compared for " +
                           std::to_string(out.differences) + " differences, leaves of at most " +
                           std::to_string(leaf_keys_max) + " keys")
                      .message;
  }
  return out;
}

TEST(AntiEntropySim, ReplicasConvergeExchangingOnlyDifferences) {
  const uint64_t steps = sim::env_u64("TESSERA_STEPS", 6'000);
  World total;
  uint64_t differences = 0;
  uint64_t exchanged_clean = 0;
  for (uint64_t seed : sim::seeds_from_env(150)) {
    SeedResult outcome = run_seed(seed, steps);
    if (!outcome.failure.empty()) {
      ADD_FAILURE() << outcome.failure;
      std::printf("TESSERA_SEED=%llu failed\n", static_cast<unsigned long long>(seed));
      return;
    }
    total.sessions += outcome.world.sessions;
    total.in_sync += outcome.world.in_sync;
    total.repaired += outcome.world.repaired;
    total.abandoned += outcome.world.abandoned;
    total.partial += outcome.world.partial;
    total.refused += outcome.world.refused;
    total.ignored += outcome.world.ignored;
    total.keys_exchanged += outcome.world.keys_exchanged;
    differences += outcome.differences;
    exchanged_clean += outcome.exchanged_clean;
  }
  std::printf(
      "sessions %llu: in sync %llu, repaired %llu, abandoned %llu, partial %llu; messages "
      "refused %llu, ignored %llu; keys exchanged %llu; after the faults %llu for %llu "
      "differences\n",
      static_cast<unsigned long long>(total.sessions),
      static_cast<unsigned long long>(total.in_sync),
      static_cast<unsigned long long>(total.repaired),
      static_cast<unsigned long long>(total.abandoned),
      static_cast<unsigned long long>(total.partial),
      static_cast<unsigned long long>(total.refused),
      static_cast<unsigned long long>(total.ignored),
      static_cast<unsigned long long>(total.keys_exchanged),
      static_cast<unsigned long long>(exchanged_clean),
      static_cast<unsigned long long>(differences));
  // The faults must have been felt, and every path taken.
  EXPECT_GT(total.repaired, 0u);
  EXPECT_GT(total.in_sync, 0u);
  EXPECT_GT(total.abandoned, 0u);
  EXPECT_GT(total.ignored, 0u);
}

}  // namespace
}  // namespace tessera::antientropy
