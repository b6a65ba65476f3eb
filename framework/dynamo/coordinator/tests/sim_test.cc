// Simulation of quorum coordinators against replicas on tessera::sim, over many seeds.
//
// 3 to 5 replica actors keep one last-write-wins version per key in a map that survives their
// crashes (their "disk": a write is durable before it is acknowledged). Client actors run one
// coordinator at a time (puts, removes and gets on a few keys) while the network drops,
// delays, reorders and duplicates messages and replicas crash, restart, pause and get
// partitioned. Then the faults stop and every key is read again, twice.
//  - Strict quorum (every node believed up, so no fallbacks; W + R > N): after every step, a
//    get that got R replies returns a version at least as new as every write acknowledged
//    before the get began. At the end, the owners of every key agree (read repair) on a version
//    at least as new as every acknowledged write.
//  - A join (strict quorum, one more replica that joins): every write also goes to the key's
//    next owners (the joiner in place of the third owner) and needs its quorum there too.
//    A third of the way, the joiner is given the newest version today's owners hold of each
//    key (its copy); two thirds of the way, reads switch to the next owners. A get still
//    returns a version at least as new as every write acknowledged before it began, whichever
//    ring it asked.
//  - Sloppy quorum (the failure detector is the simulator's view of who is up): every
//    acknowledged write that reports a hint had its copy stored, with that hint, on the holder
//    it names, a fallback standing in for a down owner. At the end, the owners agree.
// Failures print TESSERA_SEED=<n>; TESSERA_SEED=<n> replays one seed, TESSERA_SEED_FIRST and
// TESSERA_SEEDS pick a range, TESSERA_STEPS sets the length of the faulty part.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tessera/quorum/coordinator.h"
#include "tessera/sim/seeds.h"
#include "tessera/sim/simulation.h"

namespace tessera::quorum {
namespace {

using sim::EndpointId;
using sim::Time;

constexpr Time kTickInterval = 5;
constexpr uint64_t kDeadlineTicks = 40;
constexpr Time kQuietBeforeRepairReads = 400;  // lets messages of the faulty part land first
constexpr uint32_t kRepairRounds = 2;

struct Msg {
  enum class Kind : uint8_t { kWrite, kWriteAck, kRead, kReadReply, kRepair };
  Kind kind = Kind::kWrite;
  uint64_t request = 0;
  uint32_t key = 0;
  bool ok = true;
  NodeId hint_for;
  std::vector<VersionedValue> versions;
};

NodeId node_name(EndpointId id) { return "n" + std::to_string(id); }
EndpointId endpoint_of(const NodeId& node) {
  return static_cast<EndpointId>(std::stoul(node.substr(1)));
}

Bytes encode_version(uint64_t v) {
  Bytes out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}
uint64_t decode_version(ByteView bytes) {
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return v;
}

// Last write wins: big-endian versions compare as bytes.
Result<std::vector<VersionedValue>> lww(std::vector<VersionedValue> versions) {
  if (versions.empty()) return versions;
  size_t best = 0;
  for (size_t i = 1; i < versions.size(); ++i) {
    if (versions[i].version > versions[best].version) best = i;
  }
  return std::vector<VersionedValue>{std::move(versions[best])};
}

struct Config {
  size_t replicas = 5;
  size_t owners = 3;
  size_t w = 2;
  size_t r = 2;
  size_t keys = 4;
  size_t clients = 3;
  bool sloppy = false;
  bool joining = false;  // replica number `replicas` joins (see the top)
};


// What the checkers know: acknowledged writes, and counts for the summary.
struct World {
  struct Ack {
    Time at = 0;
    uint64_t version = 0;
  };
  uint64_t clock = 0;  // the source of versions: a perfect global clock
  std::map<uint32_t, std::vector<Ack>> acked;
  std::string violation;
  uint64_t writes_acked = 0;
  uint64_t reads_answered = 0;
  uint64_t unavailable = 0;
  uint64_t hinted_acks = 0;
  uint64_t repairs = 0;
  // A join: when the next owners are read instead of today's (never before the copy).
  std::optional<Time> switched_at;
};

class Replica : public sim::Actor<Msg> {
 public:
  void on_message(sim::Env<Msg>& env, EndpointId from, Msg msg) override {
    switch (msg.kind) {
      case Msg::Kind::kWrite:
      case Msg::Kind::kRepair:
        if (msg.versions.size() != 1) return;
        merge(msg.key, msg.versions[0]);
        if (!msg.hint_for.empty()) {
          hints.insert({msg.key, msg.versions[0].version, msg.hint_for});
        }
        if (msg.kind == Msg::Kind::kWrite) {
          env.send(from, Msg{Msg::Kind::kWriteAck, msg.request, msg.key, true, {}, {}});
        }
        return;
      case Msg::Kind::kRead: {
        Msg reply{Msg::Kind::kReadReply, msg.request, msg.key, true, {}, {}};
        if (auto it = disk.find(msg.key); it != disk.end()) reply.versions.push_back(it->second);
        env.send(from, std::move(reply));
        return;
      }
      default:
        return;
    }
  }
  void on_tick(sim::Env<Msg>&) override {}
  void on_crash() override {}  // everything it keeps is durable
  void on_restart(sim::Env<Msg>&) override {}

  void merge(uint32_t key, const VersionedValue& v) {
    auto it = disk.find(key);
    if (it == disk.end() || it->second.version < v.version) disk[key] = v;
  }

  std::map<uint32_t, VersionedValue> disk;
  std::set<std::tuple<uint32_t, Bytes, NodeId>> hints;  // (key, version, owner)
};

class Client : public sim::Actor<Msg> {
 public:
  // Borrows everything; the replicas are read by the hint checker only.
  Client(const Config& config, World& world, sim::Simulation<Msg>& sim,
         const std::vector<Replica>& replicas, uint32_t index)
      : config_(config), world_(world), sim_(sim), replicas_(replicas), index_(index) {}

  // Stop the workload; read every key kRepairRounds times once the network has been quiet.
  void start_repair_reads(Time from) {
    repair_from_ = from;
    repairing_ = true;
  }
  bool finished() const { return repairing_ && !op_ && next_repair_ >= repair_reads(); }

  // The preference list of `key` today: every replica but a joiner, starting at a
  // key-dependent one.
  std::vector<NodeId> preference_list(uint32_t key) const {
    std::vector<NodeId> list;
    for (size_t i = 0; i < config_.replicas; ++i) {
      list.push_back(node_name(static_cast<EndpointId>((key + i) % config_.replicas)));
    }
    return list;
  }
  // Once the joiner owns its ranges: it takes the third owner's place.
  std::vector<NodeId> next_preference_list(uint32_t key) const {
    std::vector<NodeId> list = preference_list(key);
    list.insert(list.begin() + 2, node_name(static_cast<EndpointId>(config_.replicas)));
    return list;
  }
  // The owners reads ask at `now`, and the list the final check compares.
  std::vector<NodeId> serving_list(uint32_t key, Time now) const {
    const bool switched = world_.switched_at && now >= *world_.switched_at;
    return switched ? next_preference_list(key) : preference_list(key);
  }

  void on_message(sim::Env<Msg>& env, EndpointId from, Msg msg) override {
    if (!op_ || msg.request != request_) return;  // a reply to an earlier request
    if (msg.kind == Msg::Kind::kWriteAck) {
      op_->step(WriteReply{node_name(from), msg.ok});
    } else if (msg.kind == Msg::Kind::kReadReply) {
      op_->step(ReadReply{node_name(from), msg.ok, std::move(msg.versions)});
    }
    pump(env);
  }

  void on_tick(sim::Env<Msg>& env) override {
    if (op_) {
      op_->tick();
      pump(env);
      if (op_->done()) op_.reset();
      return;
    }
    if (!repairing_) {
      if (env.rng.chance(0.5))
        start(env, static_cast<uint32_t>(env.rng.uniform(config_.keys)), env.rng.chance(0.5));
      return;
    }
    if (env.now < repair_from_ || next_repair_ >= repair_reads()) return;
    start(env, static_cast<uint32_t>(next_repair_ % config_.keys), false);
    ++next_repair_;
  }
  void on_crash() override { op_.reset(); }
  void on_restart(sim::Env<Msg>&) override {}

 private:
  uint64_t repair_reads() const { return config_.keys * kRepairRounds; }

  void start(sim::Env<Msg>& env, uint32_t key, bool write) {
    Request request;
    request.operation = write ? Operation::kWrite : Operation::kRead;
    request.replicas = serving_list(key, env.now);
    for (const NodeId& node : request.replicas) {
      request.up.push_back(!config_.sloppy || sim_.is_up(endpoint_of(node)));
    }
    const bool switched = world_.switched_at && env.now >= *world_.switched_at;
    if (config_.joining && write && !switched) {
      const std::vector<NodeId> next = next_preference_list(key);
      request.next_owners.assign(next.begin(), next.begin() + config_.owners);
      request.next_up.assign(config_.owners, true);
    }
    request.owners = config_.owners;
    request.required = write ? config_.w : config_.r;
    request.deadline_ticks = kDeadlineTicks;
    ++request_;
    key_ = key;
    started_ = env.now;
    if (write) {
      const uint64_t version = ++world_.clock;
      // One write in ten is a remove: a tombstone must win over older values like any version.
      value_ = env.rng.chance(0.1)
                   ? VersionedValue{encode_version(version), true, {}}
                   : VersionedValue{encode_version(version), false, "v" + std::to_string(version)};
    }
    op_.emplace(std::move(request), lww);
    pump(env);
  }

  void pump(sim::Env<Msg>& env) {
    for (Effect& effect : op_->drain()) {
      if (auto* w = std::get_if<SendWrite>(&effect)) {
        env.send(endpoint_of(w->to),
                 Msg{Msg::Kind::kWrite, request_, key_, true, w->hint_for, {value_}});
      } else if (auto* r = std::get_if<SendRead>(&effect)) {
        env.send(endpoint_of(r->to), Msg{Msg::Kind::kRead, request_, key_, true, {}, {}});
      } else if (auto* repair = std::get_if<ReadRepair>(&effect)) {
        ++world_.repairs;
        // One message per version: the replicas here keep one version per key.
        for (VersionedValue& v : repair->versions) {
          env.send(endpoint_of(repair->to),
                   Msg{Msg::Kind::kRepair, 0, key_, true, repair->hint_for, {std::move(v)}});
        }
      } else {
        record(env, std::get<Answer>(effect));
      }
    }
  }

  void record(sim::Env<Msg>& env, const Answer& answer) {
    if (const auto* acked = std::get_if<WriteAcked>(&answer)) {
      ++world_.writes_acked;
      world_.acked[key_].push_back(World::Ack{env.now, decode_version(value_.version)});
      check_hints(*acked);
    } else if (const auto* read = std::get_if<ReadAnswer>(&answer)) {
      ++world_.reads_answered;
      if (config_.sloppy) return;
      uint64_t newest = 0;
      for (const Bytes& v : read->context) newest = std::max(newest, decode_version(v));
      for (const World::Ack& ack : world_.acked[key_]) {
        if (ack.at < started_ && ack.version > newest && world_.violation.empty()) {
          world_.violation = "client " + std::to_string(index_) + " read key " +
                             std::to_string(key_) + " at " + std::to_string(started_) +
                             " and got version " + std::to_string(newest) + ", but version " +
                             std::to_string(ack.version) + " was acknowledged at " +
                             std::to_string(ack.at);
        }
      }
    } else {
      ++world_.unavailable;
    }
  }

  // A reported hint must name an owner and a fallback of this key, and the fallback must hold
  // the write as a hint for that owner.
  void check_hints(const WriteAcked& acked);

  const Config& config_;
  World& world_;
  sim::Simulation<Msg>& sim_;
  const std::vector<Replica>& replicas_;
  const uint32_t index_;
  std::optional<Coordinator> op_;
  uint64_t request_ = 0;
  uint32_t key_ = 0;
  Time started_ = 0;
  VersionedValue value_;
  bool repairing_ = false;
  Time repair_from_ = 0;
  uint64_t next_repair_ = 0;
};

void Client::check_hints(const WriteAcked& acked) {
  if (!world_.violation.empty()) return;
  if (acked.hinted.size() != acked.hint_holders.size()) {
    world_.violation = "hinted and hint_holders differ in length";
    return;
  }
  if (!config_.sloppy && !acked.hinted.empty()) {
    world_.violation = "a strict quorum wrote to a fallback";
    return;
  }
  world_.hinted_acks += acked.hinted.size();
  const std::vector<NodeId> list = preference_list(key_);
  const std::set<NodeId> owners(list.begin(), list.begin() + config_.owners);
  for (size_t i = 0; i < acked.hinted.size(); ++i) {
    const NodeId& owner = acked.hinted[i];
    const NodeId& holder = acked.hint_holders[i];
    const Replica& replica = replicas_[endpoint_of(holder)];
    if (!owners.contains(owner) || owners.contains(holder) ||
        !replica.hints.contains({key_, value_.version, owner})) {
      world_.violation = "write of key " + std::to_string(key_) + " reports a hint for " + owner +
                         " on " + holder + " that is not there";
      return;
    }
  }
}

struct Outcome {
  std::string failure;  // empty on success
  World world;
};

Outcome run_seed(uint64_t seed, const Config& config, uint64_t steps) {
  const size_t replica_count = config.replicas + (config.joining ? 1 : 0);
  const size_t endpoints = replica_count + config.clients;
  sim::Simulation<Msg> sim(seed, endpoints, kTickInterval);
  World world;
  std::vector<Replica> replicas(replica_count);
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t i = 0; i < replica_count; ++i)
    sim.add_actor(static_cast<EndpointId>(i), &replicas[i]);
  for (size_t i = 0; i < config.clients; ++i) {
    clients.push_back(
        std::make_unique<Client>(config, world, sim, replicas, static_cast<uint32_t>(i)));
    sim.add_actor(static_cast<EndpointId>(replica_count + i), clients.back().get());
  }
  sim.net().set_all_links(sim::LinkConfig{1, 10, 0.05, 0.05, 0.05, 50});
  sim::FaultConfig faults;
  for (size_t i = 0; i < replica_count; ++i) faults.targets.push_back(static_cast<EndpointId>(i));
  faults.crash = 0.002;
  faults.restart = 0.01;
  faults.crashed_max = config.owners - 1;
  faults.partition = 0.0005;
  faults.one_way = 0.0005;
  faults.heal = 0.003;
  faults.pause = 0.0005;
  faults.pause_max = 60;
  faults.drift = 0.1;
  sim.set_faults(faults);

  auto checker = [&world](uint64_t) { return world.violation; };
  // A join: the joiner copies after the first third, and reads move to the next owners after
  // the second, so that writes acknowledged in between count on their next-owner quorum alone.
  sim::RunResult result = sim.run(config.joining ? steps / 3 : steps, checker);
  if (result.ok && config.joining) {
    // The joiner's copy: the newest version today's owners hold of each key (their disks
    // survive crashes).
    Replica& joiner = replicas[config.replicas];
    for (uint32_t key = 0; key < config.keys; ++key) {
      const std::vector<NodeId> list = clients[0]->preference_list(key);
      for (size_t i = 0; i < config.owners; ++i) {
        const Replica& owner = replicas[endpoint_of(list[i])];
        if (auto it = owner.disk.find(key); it != owner.disk.end()) joiner.merge(key, it->second);
      }
    }
    result = sim.run(steps / 3, checker);
    world.switched_at = sim.now();
    if (result.ok) result = sim.run(steps - 2 * (steps / 3), checker);
  }
  if (!result.ok) return Outcome{result.message, world};

  // The faults stop: heal, restart, a clean network; then every key is read again.
  sim.set_faults(sim::FaultConfig{});
  sim.net().heal();
  for (size_t i = 0; i < replica_count; ++i) sim.restart(static_cast<EndpointId>(i));
  sim.net().set_all_links(sim::LinkConfig{1, 10, 0.0, 0.0, 0.0, 0});
  for (auto& client : clients) client->start_repair_reads(sim.now() + kQuietBeforeRepairReads);
  constexpr uint64_t kQuiesceStepsMax = 200'000;
  for (uint64_t i = 0; i < kQuiesceStepsMax; ++i) {
    bool finished = true;
    for (auto& client : clients) finished = finished && client->finished();
    if (finished) break;
    result = sim.run(1, checker);
    if (!result.ok) return Outcome{result.message, world};
  }
  // Let the last repairs land.
  result = sim.run(1'000, checker);
  if (!result.ok) return Outcome{result.message, world};
  for (auto& client : clients) {
    if (!client->finished())
      return Outcome{sim.fail("the repair reads did not finish").message, world};
  }

  for (uint32_t key = 0; key < config.keys; ++key) {
    const std::vector<NodeId> list = clients[0]->serving_list(key, sim.now());
    std::optional<Bytes> agreed;
    for (size_t i = 0; i < config.owners; ++i) {
      const Replica& replica = replicas[endpoint_of(list[i])];
      auto it = replica.disk.find(key);
      const Bytes version = it == replica.disk.end() ? Bytes() : it->second.version;
      if (agreed && *agreed != version) {
        return Outcome{sim.fail("owners of key " + std::to_string(key) +
                                " disagree after read repair: " + list[i] + " has version " +
                                std::to_string(decode_version(version)) + ", an earlier owner " +
                                std::to_string(decode_version(*agreed)))
                           .message,
                       world};
      }
      agreed = version;
    }
    if (config.sloppy) continue;
    for (const World::Ack& ack : world.acked[key]) {
      if (ack.version > decode_version(*agreed)) {
        return Outcome{sim.fail("acknowledged version " + std::to_string(ack.version) + " of key " +
                                std::to_string(key) + " was lost")
                           .message,
                       world};
      }
    }
  }
  return Outcome{{}, world};
}

Config strict_config(uint64_t seed) {
  Config c;
  c.replicas = 3 + seed % 3;
  c.owners = 3;
  // W + R > N in every shape: balanced, write-all and read-all.
  switch (seed % 3) {
    case 0:
      c.w = 2;
      c.r = 2;
      break;
    case 1:
      c.w = 3;
      c.r = 1;
      break;
    default:
      c.w = 1;
      c.r = 3;
      break;
  }
  return c;
}

Config joining_config(uint64_t seed) {
  Config c = strict_config(seed);
  c.joining = true;
  return c;
}

Config sloppy_config(uint64_t seed) {
  Config c;
  c.replicas = 5;
  c.owners = 3;
  c.w = 2;
  c.r = 2;
  c.sloppy = true;
  c.keys = 3 + seed % 3;
  return c;
}

void sweep(const char* name, Config (*config_for)(uint64_t), uint64_t default_seeds, World* total) {
  const uint64_t steps = sim::env_u64("TESSERA_STEPS", 30'000);
  for (uint64_t seed : sim::seeds_from_env(default_seeds)) {
    Outcome outcome = run_seed(seed, config_for(seed), steps);
    if (!outcome.failure.empty()) {
      ADD_FAILURE() << name << ": " << outcome.failure;
      std::printf("TESSERA_SEED=%llu failed\n", static_cast<unsigned long long>(seed));
      return;
    }
    total->writes_acked += outcome.world.writes_acked;
    total->reads_answered += outcome.world.reads_answered;
    total->unavailable += outcome.world.unavailable;
    total->hinted_acks += outcome.world.hinted_acks;
    total->repairs += outcome.world.repairs;
  }
  std::printf(
      "%s: writes acked %llu, reads answered %llu, unavailable %llu, hinted acks %llu, "
      "repairs %llu\n",
      name, static_cast<unsigned long long>(total->writes_acked),
      static_cast<unsigned long long>(total->reads_answered),
      static_cast<unsigned long long>(total->unavailable),
      static_cast<unsigned long long>(total->hinted_acks),
      static_cast<unsigned long long>(total->repairs));
}

TEST(QuorumSim, StrictQuorumLosesNoAcknowledgedWriteAndRepairConverges) {
  World total;
  sweep("strict", strict_config, 100, &total);
  EXPECT_GT(total.writes_acked, 0u);
  EXPECT_GT(total.reads_answered, 0u);
  EXPECT_GT(total.repairs, 0u);
}

TEST(QuorumSim, WritesDuringAJoinKeepTheirQuorumOnTheRingReadsMoveTo) {
  World total;
  sweep("joining", joining_config, 100, &total);
  EXPECT_GT(total.writes_acked, 0u);
  EXPECT_GT(total.reads_answered, 0u);
  EXPECT_GT(total.repairs, 0u);
}

TEST(QuorumSim, SloppyQuorumReportsHintsAndRepairConverges) {
  World total;
  sweep("sloppy", sloppy_config, 100, &total);
  EXPECT_GT(total.writes_acked, 0u);
  EXPECT_GT(total.hinted_acks, 0u);
  EXPECT_GT(total.repairs, 0u);
}

}  // namespace
}  // namespace tessera::quorum
