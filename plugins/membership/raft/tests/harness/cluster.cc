#include "cluster.h"

#include <algorithm>
#include <utility>

#include "tessera/assert.h"

namespace tessera::raft::sim_harness {

namespace {

// A Ready cycle can trigger another (a leader commits after persisting); this bounds the loop.
constexpr int kFlushRoundsMax = 16;

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

ClusterOptions default_fault_options() {
  ClusterOptions o;
  o.link = sim::LinkConfig{1, 12, 0.03, 0.03, 0.05, 60};
  o.faults.crash = 0.002;
  o.faults.restart = 0.01;
  o.faults.partition = 0.0008;
  o.faults.one_way = 0.0008;
  o.faults.heal = 0.004;
  o.faults.pause = 0.0005;
  o.faults.pause_max = 600;  // up to three election timeouts
  o.faults.drift = 0.2;
  o.faults.crashed_max = 2;
  o.torn_write = 0.0002;
  o.clients = 4;
  o.client_op_chance = 0.9;
  return o;
}

// ---------------------------------------------------------------------------------------------
// RaftNode

RaftNode::RaftNode(Cluster& cluster, NodeId id, SnapshotMeta start) : cluster_(cluster), id_(id) {
  disk_.snapshot = std::move(start);
  rng_.rng = &cluster_.sim().rng();
  this->start();
}

Result<std::vector<Entry>> RaftNode::DiskStorage::entries(Index lo, Index hi, size_t bytes_max) {
  Cluster& cluster = node_.cluster_;
  ++cluster.stats().storage_reads;
  if (!cluster.quiesced() && cluster.sim().rng().chance(cluster.options().storage_read_error)) {
    ++cluster.stats().storage_read_errors;
    return Status::io_error("injected read error");
  }
  const Disk& disk = node_.disk_;
  if (lo <= disk.snapshot_index() || hi > disk.last_index() + 1 || lo >= hi) {
    cluster.checker().fail("storage: node " + std::to_string(node_.id_) + " read [" +
                           std::to_string(lo) + ", " + std::to_string(hi) +
                           ") outside its disk's log");
    return Status::not_found("outside the log");
  }
  std::vector<Entry> out;
  size_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = disk.entries[i - disk.snapshot_index() - 1];
    bytes += e.data.size();
    if (!out.empty() && bytes > bytes_max) break;
    out.push_back(e);
  }
  return out;
}

DurableState RaftNode::durable_state() {
  DurableState d;
  d.hard_state = disk_.hard_state;
  d.snapshot = disk_.snapshot;
  d.applied = disk_.sm_applied;
  d.storage = &storage_;
  d.last_index = disk_.last_index();
  for (const Entry& e : disk_.entries) {
    if (d.term_runs.empty() || d.term_runs.back().term != e.term) {
      d.term_runs.push_back(TermRun{e.index, e.term});
    }
    if (e.type == EntryType::kConfChange) d.conf_entries.push_back(e);
  }
  return d;
}

const Entry& RaftNode::entry_at(Index i) const {
  if (const Entry* e = raft_->log().cached(i)) return *e;
  TESSERA_ASSERT(i > disk_.snapshot_index());
  TESSERA_ASSERT(i <= disk_.last_index());
  return disk_.entries[i - disk_.snapshot_index() - 1];
}

void RaftNode::start() {
  Options options = cluster_.options().raft;
  options.id = id_;
  raft_ = std::make_unique<Raft>(options, rng_, durable_state());
  // The state machine comes back from its own durable image; the core hands out the committed
  // entries after it again.
  kv_.clear();
  if (!disk_.sm_image.empty()) kv_.restore(disk_.sm_image);
  TESSERA_ASSERT(disk_.sm_applied >= disk_.snapshot_index());
  applied_index_ = disk_.sm_applied;
  applied_chain_ = disk_.sm_chain;
  staged_images_.clear();
  last_image_ = {};
  checked_commit_ = raft_->log().committed();
  leader_checked_term_ = 0;
  uint64_t chain = 0;
  if (!cluster_.checker().committed_chain(checked_commit_, &chain)) {
    cluster_.checker().fail("durability: node " + std::to_string(id_) +
                            " restarted with commit index " + std::to_string(checked_commit_) +
                            " that was never committed");
  }
}

void RaftNode::on_crash() {
  if (raft_ != nullptr && applied_index_ > disk_.sm_applied) {
    cluster_.stats().replayed += applied_index_ - disk_.sm_applied;
  }
  raft_.reset();
  staged_images_.clear();
  kv_.clear();
  pending_writes_.clear();
  pending_reads_.clear();
  waiting_reads_.clear();
}

void RaftNode::on_restart(SimEnv& env) {
  start();
  flush(env);
}

void RaftNode::on_message(SimEnv& env, EndpointId from, SimMsg msg) {
  if (auto* packet = std::get_if<RaftPacket>(&msg)) {
    if (packet->message.type == MessageType::kSnapshot && packet->image != nullptr) {
      // Staged before the core sees the message, as a host stages the streamed chunks.
      staged_images_[packet->message.snapshot.index] = packet->image;
      while (staged_images_.size() > kStagedImagesMax) staged_images_.erase(staged_images_.begin());
    }
    raft_->step(std::move(packet->message));
  } else if (auto* request = std::get_if<ClientRequest>(&msg)) {
    handle_request(env, from, *request);
  }
  // A slow disk: effects wait, and are lost if the node crashes first.
  if (!env.rng.chance(cluster_.options().defer_flush)) flush(env);
}

void RaftNode::on_tick(SimEnv& env) {
  raft_->tick();
  flush(env);
}

void RaftNode::check() {
  Checker& checker = cluster_.checker();
  const RaftLog& log = raft_->log();
  // Bounded memory: beyond the cache bound the core keeps only entries not yet persisted.
  if (log.cached_bytes() > cluster_.options().raft.entry_cache_bytes_max &&
      log.cached_from() <= log.persisted()) {
    checker.fail("memory: node " + std::to_string(id_) + " keeps " +
                 std::to_string(log.cached_bytes()) + " bytes of entries from " +
                 std::to_string(log.cached_from()) + ", persisted up to " +
                 std::to_string(log.persisted()));
    return;
  }
  const Index commit = log.committed();
  if (commit > checked_commit_) {
    const Index from = std::max(checked_commit_, log.snapshot_index());
    uint64_t chain = 0;
    if (!checker.committed_chain(from, &chain)) {
      checker.fail("node " + std::to_string(id_) + " commits past an unknown prefix at " +
                   std::to_string(from));
      return;
    }
    checker.on_commit(id_, raft_->term(), from, commit, chain,
                      [&](Index i) -> const Entry& { return entry_at(i); });
    checked_commit_ = commit;
  }
  if (raft_->role() == Role::kLeader && raft_->term() != leader_checked_term_) {
    leader_checked_term_ = raft_->term();
    checker.on_leader(id_, raft_->term());
    // Leader completeness: the new leader's log holds every entry committed in earlier terms.
    const Index m = checker.commit_max_before(raft_->term());
    if (m > log.snapshot_index()) {
      uint64_t chain = 0;
      bool known = checker.committed_chain(log.snapshot_index(), &chain);
      if (!known || log.last_index() < m) {
        checker.fail("leader completeness: leader " + std::to_string(id_) + " of term " +
                     std::to_string(raft_->term()) + " lacks committed index " + std::to_string(m));
        return;
      }
      for (Index i = log.first_index(); i <= m; ++i) chain = chain_hash(chain, entry_at(i));
      uint64_t expected = 0;
      checker.committed_chain(m, &expected);
      if (chain != expected) {
        checker.fail("leader completeness: leader " + std::to_string(id_) + " of term " +
                     std::to_string(raft_->term()) + " has a different entry at or below " +
                     std::to_string(m));
      }
    }
  }
}

bool RaftNode::disk_holds(Index index, uint64_t chain) const {
  if (index <= disk_.snapshot_index()) return true;  // snapshots are checked committed prefixes
  const Index offset = index - disk_.snapshot_index() - 1;
  return offset < disk_.chains.size() && disk_.chains[offset] == chain;
}

void RaftNode::flush(SimEnv& env) {
  if (raft_ == nullptr) return;
  for (int round = 0; round < kFlushRoundsMax && raft_->has_ready(); ++round) {
    check();
    Ready rd = raft_->ready();
    // A leader's replication traffic leaves before its own disk write (thesis 10.2.1)...
    const bool early = !rd.early_messages.empty();
    cluster_.stats().early_messages += rd.early_messages.size();
    send(env, rd.early_messages);
    // ...and the leader may die before that write is done.
    const bool early_crash = early && env.rng.chance(cluster_.options().early_crash);
    if (!cluster_.quiesced() && (early_crash || env.rng.chance(cluster_.options().torn_write))) {
      if (early_crash) ++cluster_.stats().early_crashes;
      persist_torn(rd, env.rng);
      cluster_.sim().crash(Cluster::endpoint(id_));  // destroys raft_: nothing more to do here
      return;
    }
    persist(rd);
    send(env, rd.messages);
    apply(env, rd);
    raft_->advance(rd);
    serve_reads(env);
    maybe_persist_state_machine(env.rng);
    maybe_compact();
  }
}

void RaftNode::send(SimEnv& env, std::vector<Message>& messages) {
  for (Message& m : messages) {
    RaftPacket packet{std::move(m), nullptr};
    if (packet.message.type == MessageType::kSnapshot) {
      // The image at exactly the index the core named: the state machine has applied up to
      // there and no further, since this Ready's committed entries come after the sends.
      const Index index = packet.message.snapshot.index;
      if (index != applied_index_) {
        cluster_.checker().fail("snapshot: node " + std::to_string(id_) + " asked to send index " +
                                std::to_string(index) + " while applied " +
                                std::to_string(applied_index_));
      }
      if (last_image_.second == nullptr || last_image_.first != index) {
        last_image_ = {index, std::make_shared<const std::string>(kv_.snapshot())};
        ++cluster_.stats().images_sent;
      }
      packet.image = last_image_.second;
    }
    const EndpointId to = Cluster::endpoint(packet.message.to);
    env.send(to, SimMsg{std::move(packet)});
  }
}

void RaftNode::persist(const Ready& rd) {
  Checker& checker = cluster_.checker();
  if (rd.snapshot) {
    const SnapshotMeta& meta = *rd.snapshot;
    checker.on_snapshot(id_, meta.index, meta.term);
    ++cluster_.stats().snapshots_installed;
    auto staged = staged_images_.find(meta.index);
    TESSERA_ASSERT(staged != staged_images_.end());  // staged when the message arrived
    disk_.snapshot = meta;
    checker.committed_chain(meta.index, &disk_.snapshot_chain);
    disk_.entries.clear();
    disk_.chains.clear();
    // The restored image is the state machine's durable state from here on.
    disk_.sm_image = *staged->second;
    disk_.sm_applied = meta.index;
    disk_.sm_chain = disk_.snapshot_chain;
  }
  if (!rd.entries.empty()) {
    const Index first = rd.entries.front().index;
    const Index disk_first = disk_.snapshot_index() + 1;
    TESSERA_ASSERT(first >= disk_first);
    TESSERA_ASSERT(first <= disk_first + disk_.entries.size());
    disk_.entries.resize(first - disk_first);
    disk_.chains.resize(first - disk_first);
    for (const Entry& e : rd.entries) {
      const uint64_t prev = disk_.chains.empty() ? disk_.snapshot_chain : disk_.chains.back();
      const uint64_t chain = chain_hash(prev, e);
      checker.on_persist(id_, e, chain);
      disk_.entries.push_back(e);
      disk_.chains.push_back(chain);
    }
  }
  if (rd.hard_state) disk_.hard_state = *rd.hard_state;
}

void RaftNode::persist_torn(const Ready& rd, sim::Rng& rng) {
  Ready part;
  if (rd.snapshot) {
    if (rng.chance(0.5)) return;  // died before the snapshot was written
    part.snapshot = rd.snapshot;
  }
  const size_t kept = rng.uniform(rd.entries.size() + 1);
  part.entries.assign(rd.entries.begin(), rd.entries.begin() + static_cast<ptrdiff_t>(kept));
  persist(part);
  ++cluster_.stats().torn_writes;
}

void RaftNode::apply(SimEnv& env, const Ready& rd) {
  Checker& checker = cluster_.checker();
  if (rd.snapshot) {
    auto staged = staged_images_.find(rd.snapshot->index);
    TESSERA_ASSERT(staged != staged_images_.end());
    kv_.restore(*staged->second);
    applied_index_ = rd.snapshot->index;
    checker.committed_chain(applied_index_, &applied_chain_);
    if (checked_commit_ < applied_index_) checked_commit_ = applied_index_;
    staged_images_.erase(staged_images_.begin(), std::next(staged));
  }
  for (const Entry& e : rd.committed_entries) {
    applied_chain_ = checker.on_apply(id_, applied_index_ + 1, e, applied_chain_);
    applied_index_ = e.index;
    if (e.type != EntryType::kNormal) continue;
    std::optional<KvCommand> command = decode_command(e.data);
    if (!command) continue;
    kv_.apply(*command);
    auto it = pending_writes_.find({command->client, command->seq});
    if (it != pending_writes_.end()) {
      ClientRequest request{command->client, command->seq, true, command->key, command->value};
      reply(env, it->second, request, true, 0);
      ++cluster_.stats().writes_acked;
      pending_writes_.erase(it);
    }
  }
  for (const ReadState& rs : rd.read_states) {
    auto it = pending_reads_.find(rs.request_id);
    if (it == pending_reads_.end()) continue;
    waiting_reads_.push_back(WaitingRead{rs, it->second.first, it->second.second});
    pending_reads_.erase(it);
  }
  for (uint64_t id : rd.reads_failed) {
    auto it = pending_reads_.find(id);
    if (it == pending_reads_.end()) continue;
    reply(env, it->second.first, it->second.second, false, 0);
    pending_reads_.erase(it);
  }
}

void RaftNode::serve_reads(SimEnv& env) {
  std::erase_if(waiting_reads_, [&](const WaitingRead& w) {
    if (w.state.index > applied_index_) return false;
    reply(env, w.client, w.request, true, kv_.get(w.request.key));
    ++cluster_.stats().reads_served;
    ++reads_served_;
    return true;
  });
}

void RaftNode::maybe_persist_state_machine(sim::Rng& rng) {
  if (disk_.sm_applied == applied_index_) return;
  if (!rng.chance(cluster_.options().sm_persist_chance)) return;
  disk_.sm_image = kv_.snapshot();
  disk_.sm_applied = applied_index_;
  disk_.sm_chain = applied_chain_;
}

void RaftNode::maybe_compact() {
  // Only up to what the state machine has made durable: a crash replays the log from there.
  const uint64_t every = cluster_.options().compact_every;
  const Index index = disk_.sm_applied;
  if (every == 0 || index < raft_->snapshot().index + every) return;
  raft_->compact(index);
  // Then the host drops the log prefix from its storage.
  const Index old_first = disk_.snapshot_index() + 1;
  disk_.snapshot = raft_->snapshot();
  disk_.snapshot_chain = disk_.sm_chain;
  const size_t drop = std::min<size_t>(disk_.entries.size(), index + 1 - old_first);
  disk_.entries.erase(disk_.entries.begin(), disk_.entries.begin() + drop);
  disk_.chains.erase(disk_.chains.begin(), disk_.chains.begin() + drop);
}

void RaftNode::handle_request(SimEnv& env, EndpointId from, const ClientRequest& request) {
  if (raft_->role() != Role::kLeader) {
    reply(env, from, request, false, 0);
    return;
  }
  if (request.write) {
    if (kv_.applied(request.client, request.seq)) {
      reply(env, from, request, true, 0);
      return;
    }
    KvCommand command{request.client, request.seq, request.key, request.value};
    Proposal p = raft_->propose(encode_command(command));
    if (p.outcome != Outcome::kOk) {
      reply(env, from, request, false, 0);
      return;
    }
    pending_writes_[{request.client, request.seq}] = from;
    return;
  }
  const uint64_t id = next_read_id_++;
  if (raft_->read_index(id) != Outcome::kOk) {
    reply(env, from, request, false, 0);
    return;
  }
  pending_reads_[id] = {from, request};
}

void RaftNode::reply(SimEnv& env, EndpointId to, const ClientRequest& request, bool ok,
                     uint64_t value) {
  ClientReply r{request.client, request.seq, ok, value,
                raft_ != nullptr ? raft_->leader() : kNoNode};
  env.send(to, SimMsg{r});
}

// ---------------------------------------------------------------------------------------------
// Client

Client::Client(Cluster& cluster, uint64_t client_id) : cluster_(cluster), client_id_(client_id) {}

void Client::send_current(SimEnv& env) {
  sent_at_ = env.now;
  retry_pending_ = false;
  env.send(target_, SimMsg{request_});
}

void Client::on_tick(SimEnv& env) {
  const ClusterOptions& o = cluster_.options();
  if (!active_) {
    if (!env.rng.chance(o.client_op_chance)) return;
    ++seq_;
    request_ = ClientRequest{client_id_, seq_, env.rng.chance(0.5), 1 + env.rng.uniform(o.keys), 0};
    if (request_.write) request_.value = (client_id_ << 32) | seq_;
    HistoryOp op{client_id_,     cluster_.next_event(), sim::kPendingReturn,
                 request_.write, request_.key,          request_.value};
    history_index_ = cluster_.history().size();
    cluster_.history().push_back(op);
    active_ = true;
    send_current(env);
    return;
  }
  if ((retry_pending_ && env.now >= retry_at_) || env.now - sent_at_ >= o.client_timeout) {
    if (!retry_pending_) target_ = static_cast<EndpointId>(env.rng.uniform(cluster_.servers()));
    send_current(env);
  }
}

void Client::on_message(SimEnv& env, EndpointId, SimMsg msg) {
  auto* reply = std::get_if<ClientReply>(&msg);
  if (reply == nullptr || !active_ || reply->seq != seq_ || retry_pending_) return;
  if (reply->ok) {
    HistoryOp& op = cluster_.history()[history_index_];
    op.ret = cluster_.next_event();
    if (!op.write) op.value = reply->value;
    active_ = false;
    return;
  }
  // Not the leader (or no longer): go where the hint points, or anywhere, a little later.
  if (reply->leader_hint != kNoNode && reply->leader_hint <= cluster_.servers()) {
    target_ = Cluster::endpoint(reply->leader_hint);
  } else {
    target_ = static_cast<EndpointId>(env.rng.uniform(cluster_.servers()));
  }
  retry_pending_ = true;
  retry_at_ = env.now + 2 * cluster_.options().tick_interval;
}

// ---------------------------------------------------------------------------------------------
// Controller

void Controller::on_tick(SimEnv& env) {
  const ClusterOptions& o = cluster_.options();
  if (cluster_.quiesced()) return;
  const NodeId leader = cluster_.leader();
  if (leader == kNoNode) return;
  if (env.rng.chance(o.transfer_chance)) {
    const ConfState& conf = cluster_.node(leader).raft().conf();
    const NodeId target = conf.voters[env.rng.uniform(conf.voters.size())];
    cluster_.with_node(leader, [&](Raft& r) {
      if (r.transfer_leadership(target) == Outcome::kOk) ++cluster_.stats().transfers_requested;
    });
  }
  if (env.rng.chance(o.membership_chance)) {
    // Sometimes a burst of changes: all but the first must wait (kConfPending) for the first to
    // commit; a core that let them overlap could form disjoint majorities.
    const int changes = env.rng.chance(0.3) ? 3 : 1;
    for (int k = 0; k < changes && cluster_.node(leader).up(); ++k) propose_change(env, leader);
  }
}

void Controller::propose_change(SimEnv& env, NodeId leader) {
  if (cluster_.node(leader).raft().role() != Role::kLeader) return;
  const ConfState conf = cluster_.node(leader).raft().conf();
  const NodeId id = 1 + env.rng.uniform(cluster_.servers());
  ConfChange change{env.rng.chance(0.5) ? ConfChangeType::kAddLearner : ConfChangeType::kAddVoter,
                    id};
  if (conf.is_learner(id)) {
    change.type = env.rng.chance(0.7) ? ConfChangeType::kPromoteLearner : ConfChangeType::kRemove;
  } else if (conf.is_voter(id)) {
    if (conf.voters.size() <= 3) return;  // keep three voters so faults stay tolerable
    change.type = ConfChangeType::kRemove;
  }
  cluster_.with_node(leader, [&](Raft& r) {
    if (r.propose_conf_change(change).outcome == Outcome::kOk) {
      ++cluster_.stats().conf_changes_proposed;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Cluster

Cluster::Cluster(uint64_t seed, ClusterOptions options)
    : options_(std::move(options)),
      sim_(seed, options_.servers + options_.clients + 1, options_.tick_interval),
      checker_(ConfState{}) {
  ConfState founders;
  for (NodeId id = 1; id <= options_.initial_voters; ++id) founders.voters.push_back(id);
  checker_ = Checker(founders);
  for (NodeId id = 1; id <= options_.servers; ++id) {
    SnapshotMeta start;
    if (id <= options_.initial_voters) start.conf = founders;
    nodes_.push_back(std::make_unique<RaftNode>(*this, id, std::move(start)));
    sim_.add_actor(endpoint(id), nodes_.back().get());
  }
  for (size_t c = 0; c < options_.clients; ++c) {
    clients_.push_back(std::make_unique<Client>(*this, c + 1));
    sim_.add_actor(static_cast<EndpointId>(options_.servers + c), clients_.back().get());
  }
  controller_ = std::make_unique<Controller>(*this);
  sim_.add_actor(static_cast<EndpointId>(options_.servers + options_.clients), controller_.get());
  sim_.net().set_all_links(options_.link);
  if (options_.faults_on) {
    sim::FaultConfig faults = options_.faults;
    if (faults.targets.empty()) {
      for (NodeId id = 1; id <= options_.servers; ++id) faults.targets.push_back(endpoint(id));
    }
    sim_.set_faults(std::move(faults));
  }
}

void Cluster::quiesce() {
  quiesced_ = true;
  sim_.set_faults(sim::FaultConfig{});
  sim_.net().heal();
  for (NodeId id = 1; id <= nodes_.size(); ++id) {
    sim_.restart(endpoint(id));
    sim_.pause(endpoint(id), 0);
  }
}

NodeId Cluster::leader() {
  NodeId best = kNoNode;
  Term best_term = 0;
  for (auto& n : nodes_) {
    if (!n->up() || n->raft().role() != Role::kLeader) continue;
    if (best == kNoNode || n->raft().term() > best_term) {
      best = n->id();
      best_term = n->raft().term();
    }
  }
  return best;
}

std::string Cluster::check_step() {
  for (auto& n : nodes_) {
    if (n->up()) n->check();
  }
  if (!checker_.error().empty()) return checker_.error();
  // Durability: the newest committed entry is on enough disks that the group, minus the
  // failures it tolerates, still has it.
  const Index m = checker_.commit_max();
  if (m > 0) {
    uint64_t chain = 0;
    checker_.committed_chain(m, &chain);
    const ConfState& conf = checker_.committed_conf();
    size_t holders = 0;
    for (NodeId id : conf.voters) {
      if (id <= nodes_.size() && nodes_[id - 1]->disk_holds(m, chain)) ++holders;
    }
    const size_t needed = (conf.voters.size() - 1) / 2 + 1;
    if (holders < needed) {
      checker_.fail("durability: committed index " + std::to_string(m) + " is on " +
                    std::to_string(holders) + " voter disks, fewer than " + std::to_string(needed));
    }
  }
  return checker_.error();
}

sim::RunResult Cluster::run(uint64_t steps) {
  return sim_.run(steps, [this](uint64_t) { return check_step(); });
}

sim::RunResult Cluster::run_until(uint64_t steps_max, const std::function<bool()>& done) {
  for (uint64_t i = 0; i < steps_max; ++i) {
    if (done()) return sim::RunResult{true, sim_.seed(), sim_.steps_done(), {}};
    sim_.step();
    std::string failure = check_step();
    if (!failure.empty()) return sim_.fail(failure);
  }
  if (done()) return sim::RunResult{true, sim_.seed(), sim_.steps_done(), {}};
  return sim_.fail("condition not reached within " + std::to_string(steps_max) + " steps");
}

std::string Cluster::check_history() {
  std::map<uint64_t, std::vector<sim::Operation<Register>>> by_key;
  for (const HistoryOp& op : history_) {
    if (!op.write && op.ret == sim::kPendingReturn) continue;  // an unanswered read says nothing
    by_key[op.key].push_back(
        sim::Operation<Register>{op.call, op.ret, Register::Input{op.write, op.value}, op.value});
  }
  for (auto& [key, ops] : by_key) {
    sim::LinearizabilityResult result = sim::check_linearizable<Register>(std::move(ops), 0);
    if (!result.ok) {
      return "linearizability: key " + std::to_string(key) + ": " + result.message;
    }
  }
  return {};
}

size_t Cluster::completed_ops() const {
  return static_cast<size_t>(std::count_if(history_.begin(), history_.end(), [](const auto& op) {
    return op.ret != sim::kPendingReturn;
  }));
}

}  // namespace tessera::raft::sim_harness
