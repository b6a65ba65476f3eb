#include "multi_cluster.h"

#include <algorithm>
#include <utility>

#include "tessera/assert.h"

namespace tessera::raft::multi_sim {

namespace {

struct Register {
  using State = uint64_t;
  struct Input {
    bool write = false;
    uint64_t value = 0;
  };
  using Output = uint64_t;
  static bool apply(State& state, const Input& in, const Output* out) {
    if (in.write) {
      state = in.value;
      return true;
    }
    return out == nullptr || *out == state;
  }
  static uint64_t hash(const State& state) { return state; }
};

}  // namespace

MultiOptions default_multi_options() {
  MultiOptions o;
  o.link = sim::LinkConfig{1, 12, 0.03, 0.03, 0.05, 60};
  o.faults.crash = 0.001;
  o.faults.restart = 0.01;
  o.faults.partition = 0.0005;
  o.faults.one_way = 0.0005;
  o.faults.heal = 0.004;
  o.faults.pause = 0.0003;
  o.faults.pause_max = 600;
  o.faults.drift = 0.2;
  o.faults.crashed_max = 1;
  o.torn_write = 0.002;
  o.read_error = 0.002;
  o.raft.entry_cache_bytes_max = 2048;  // small: the cores read back through the shared log
  o.driver.compact_entries_min = 24;    // compact often: followers catch up by snapshot
  o.client_op_chance = 0.6;
  return o;
}

// ---------------------------------------------------------------------------------------------
// MultiClient

MultiClient::MultiClient(MultiCluster& cluster, GroupId group, uint64_t client_id)
    : cluster_(cluster), group_(group), client_id_(client_id) {}

EndpointId MultiClient::random_member(MultiEnv& env) const {
  const std::vector<size_t>& members = cluster_.group(group_).members;
  return static_cast<EndpointId>(members[env.rng.uniform(members.size())]);
}

void MultiClient::send_current(MultiEnv& env) {
  sent_at_ = env.now;
  retry_pending_ = false;
  env.send(target_, MultiMsg{request_});
}

void MultiClient::on_tick(MultiEnv& env) {
  const MultiOptions& o = cluster_.options();
  if (!active_) {
    if (!env.rng.chance(o.client_op_chance)) return;
    ++seq_;
    request_ = ClientRequest{
        group_, client_id_, seq_, env.rng.chance(0.5), 1 + env.rng.uniform(o.keys), 0};
    if (request_.write) request_.value = (client_id_ << 32) | seq_;
    std::vector<HistoryOp>& history = cluster_.group(group_).history;
    history_index_ = history.size();
    history.push_back(HistoryOp{client_id_, cluster_.next_event(), sim::kPendingReturn,
                                request_.write, request_.key, request_.value});
    active_ = true;
    if (seq_ == 1) target_ = random_member(env);
    send_current(env);
    return;
  }
  if ((retry_pending_ && env.now >= retry_at_) || env.now - sent_at_ >= o.client_timeout) {
    if (!retry_pending_) target_ = random_member(env);
    send_current(env);
  }
}

void MultiClient::on_message(MultiEnv& env, EndpointId, MultiMsg msg) {
  auto* reply = std::get_if<ClientReply>(&msg);
  if (reply == nullptr || !active_ || reply->seq != seq_ || retry_pending_) return;
  if (reply->ok) {
    HistoryOp& op = cluster_.group(group_).history[history_index_];
    op.ret = cluster_.next_event();
    if (!op.write) op.value = reply->value;
    active_ = false;
    return;
  }
  // Not answered: go where the hint points, or to any member, a little later.
  target_ =
      reply->leader_hint >= 0 ? static_cast<EndpointId>(reply->leader_hint) : random_member(env);
  retry_pending_ = true;
  retry_at_ = env.now + 2 * cluster_.options().tick_interval;
}

// ---------------------------------------------------------------------------------------------
// MultiCluster

size_t MultiCluster::node_index(const tessera::NodeId& name) {
  TESSERA_ASSERT(name.size() >= 2 && name[0] == 'n');
  return std::stoul(name.substr(1));
}

MultiCluster::MultiCluster(uint64_t seed, MultiOptions options)
    : options_(std::move(options)),
      sim_(seed, options_.nodes + options_.groups * options_.clients_per_group,
           options_.tick_interval) {
  TESSERA_REQUIRE(options_.replicas_per_group >= 1);
  TESSERA_REQUIRE(options_.replicas_per_group <= options_.nodes);
  for (size_t i = 0; i < options_.nodes; ++i) {
    nodes_.push_back(std::make_unique<MultiNode>(*this, i));
  }
  for (GroupId g = 1; g <= options_.groups; ++g) {
    GroupInfo info;
    info.id = g;
    std::vector<size_t> all(options_.nodes);
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    // A random subset (Fisher-Yates prefix) when groups live on fewer nodes than exist.
    for (size_t i = 0; i < options_.replicas_per_group; ++i) {
      std::swap(all[i], all[i + sim_.rng().uniform(all.size() - i)]);
    }
    info.members.assign(all.begin(),
                        all.begin() + static_cast<ptrdiff_t>(options_.replicas_per_group));
    std::sort(info.members.begin(), info.members.end());
    ConfState founders;
    for (size_t m : info.members) founders.voters.push_back(replica_id(g, m));
    info.checker = sim_harness::Checker(founders);
    groups_.emplace(g, std::move(info));
    for (size_t m : groups_.at(g).members) nodes_[m]->host(g, SnapshotMeta{0, 0, founders});
  }
  for (size_t i = 0; i < options_.nodes; ++i) {
    sim_.add_actor(static_cast<EndpointId>(i), nodes_[i].get());
  }
  uint64_t client_id = 1;
  for (GroupId g = 1; g <= options_.groups; ++g) {
    for (size_t c = 0; c < options_.clients_per_group; ++c) {
      clients_.push_back(std::make_unique<MultiClient>(*this, g, client_id++));
      sim_.add_actor(static_cast<EndpointId>(options_.nodes + clients_.size() - 1),
                     clients_.back().get());
    }
  }
  sim_.net().set_all_links(options_.link);
  // A node's wake-ups to itself: never lost, exactly the delay the node asked for.
  for (size_t i = 0; i < options_.nodes; ++i) {
    sim_.net().set_link(static_cast<EndpointId>(i), static_cast<EndpointId>(i),
                        sim::LinkConfig{0, 0, 0.0, 0.0, 0.0, 0});
  }
  if (options_.faults_on) {
    sim::FaultConfig faults = options_.faults;
    if (faults.targets.empty()) {
      for (size_t i = 0; i < options_.nodes; ++i)
        faults.targets.push_back(static_cast<EndpointId>(i));
    }
    sim_.set_faults(std::move(faults));
  }
  for (size_t i = 0; i < options_.nodes; ++i) {
    MultiEnv env{sim_.now(), static_cast<EndpointId>(i), sim_.net(), sim_.rng()};
    nodes_[i]->on_restart(env);
  }
}

std::string MultiCluster::check_step() {
  if (!error_.empty()) return error_;
  for (auto& [g, info] : groups_) {
    if (!info.checker.error().empty())
      return "group " + std::to_string(g) + ": " + info.checker.error();
    // Durability: the newest committed entry is on a majority of the group's disks.
    const Index m = info.checker.commit_max();
    if (m == 0) continue;
    uint64_t chain = 0;
    info.checker.committed_chain(m, &chain);
    size_t holders = 0;
    for (size_t n : info.members) holders += nodes_[n]->log().holds(g, m, chain) ? 1 : 0;
    const size_t needed = info.members.size() / 2 + 1;
    if (holders < needed) {
      return "group " + std::to_string(g) + ": durability: committed index " + std::to_string(m) +
             " is on " + std::to_string(holders) + " disks, fewer than " + std::to_string(needed);
    }
  }
  return {};
}

sim::RunResult MultiCluster::run(uint64_t steps) {
  return sim_.run(steps, [this](uint64_t) { return check_step(); });
}

sim::RunResult MultiCluster::run_until(uint64_t steps_max, const std::function<bool()>& done) {
  for (uint64_t i = 0; i < steps_max; ++i) {
    if (done()) return sim::RunResult{true, sim_.seed(), sim_.steps_done(), {}};
    sim_.step();
    std::string failure = check_step();
    if (!failure.empty()) return sim_.fail(failure);
  }
  if (done()) return sim::RunResult{true, sim_.seed(), sim_.steps_done(), {}};
  return sim_.fail("condition not reached within " + std::to_string(steps_max) + " steps");
}

void MultiCluster::quiesce() {
  quiesced_ = true;
  sim_.set_faults(sim::FaultConfig{});
  sim_.net().heal();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    sim_.restart(static_cast<EndpointId>(i));
    sim_.pause(static_cast<EndpointId>(i), 0);
  }
}

std::string MultiCluster::check_history() {
  for (auto& [g, info] : groups_) {
    std::map<uint64_t, std::vector<sim::Operation<Register>>> by_key;
    for (const HistoryOp& op : info.history) {
      if (!op.write && op.ret == sim::kPendingReturn) continue;  // an unanswered read says nothing
      by_key[op.key].push_back(
          sim::Operation<Register>{op.call, op.ret, Register::Input{op.write, op.value}, op.value});
    }
    for (auto& [key, ops] : by_key) {
      sim::LinearizabilityResult result = sim::check_linearizable<Register>(std::move(ops), 0);
      if (!result.ok) {
        return "linearizability: group " + std::to_string(g) + " key " + std::to_string(key) +
               ": " + result.message;
      }
    }
  }
  return {};
}

std::string MultiCluster::describe() {
  std::string out;
  for (auto& [g, info] : groups_) {
    out += "group " + std::to_string(g) + " (" + std::to_string(completed_ops(g)) + " ops):";
    for (size_t n : info.members) {
      MultiNode& node = *nodes_[n];
      out += " " + node_name(n) + "=";
      if (!node.up()) {
        out += "down";
        continue;
      }
      const Raft* core = node.driver().core(g);
      static const char* kRoles[] = {"F", "PC", "C", "L"};
      const RaftLog& log = core->log();
      out += std::string(kRoles[static_cast<int>(core->role())]) + " t" +
             std::to_string(core->term()) + " last" + std::to_string(log.last_index()) + " c" +
             std::to_string(log.committed()) + " a" + std::to_string(log.applied()) + " p" +
             std::to_string(log.persisted()) + " s" + std::to_string(core->snapshot().index) + " " +
             node.describe_group(g);
    }
    out += "\n";
  }
  return out;
}

size_t MultiCluster::completed_ops(GroupId group) const {
  const std::vector<HistoryOp>& h = groups_.at(group).history;
  return static_cast<size_t>(std::count_if(
      h.begin(), h.end(), [](const HistoryOp& op) { return op.ret != sim::kPendingReturn; }));
}

size_t MultiCluster::completed_ops() const {
  size_t n = 0;
  for (const auto& [g, info] : groups_) n += completed_ops(g);
  return n;
}

}  // namespace tessera::raft::multi_sim
