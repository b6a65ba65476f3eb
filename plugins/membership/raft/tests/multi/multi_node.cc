// MultiNode: one simulated node: a driver, its shared log, its apply stage, its clients' replies.
#include <algorithm>
#include <utility>

#include "multi_cluster.h"
#include "tessera/assert.h"

namespace tessera::raft::multi_sim {

namespace {

// Staged images kept per group beyond the one a restart may need.
constexpr size_t kStagedPerGroupMax = 4;

}  // namespace

MultiNode::MultiNode(MultiCluster& cluster, size_t index)
    : cluster_(cluster),
      index_(index),
      name_(MultiCluster::node_name(index)),
      log_(
          cluster.sim().rng(),
          [this](GroupId g, const Entry& e, uint64_t chain) {
            cluster_.group(g).checker.on_persist(MultiCluster::replica_id(g, index_), e, chain);
          },
          [this](GroupId g, Index i) {
            uint64_t chain = 0;
            if (!cluster_.group(g).checker.committed_chain(i, &chain)) {
              cluster_.fail("node " + name_ + " group " + std::to_string(g) + ": start point at " +
                            std::to_string(i) + " is not committed");
            }
            return chain;
          }) {
  log_.set_read_error_chance(cluster.options().read_error);
}

void MultiNode::host(GroupId group, const SnapshotMeta& start) {
  groups_.push_back(group);
  log_.add_group(group, start);
  images_[group] = DurableImage{};
}

void MultiNode::start() {
  const MultiOptions& o = cluster_.options();
  ++incarnation_;
  iterate_pending_ = false;
  apply_pending_ = false;
  driver_ = std::make_unique<driver::Driver>(name_, o.driver, log_, *this, *this, *this);
  for (GroupId g : groups_) {
    MultiCluster::GroupInfo& info = cluster_.group(g);
    DurableImage& image = images_[g];
    const SnapshotMeta& start = log_.start(g);
    if (image.index < start.index) {
      // The log starts after a snapshot this state machine never made durable: the restore
      // starts again from the image staged with its message (kept for exactly this).
      auto it = staged_.find({g, start.index});
      if (it == staged_.end()) {
        cluster_.fail("node " + name_ + " group " + std::to_string(g) +
                      ": log starts at a snapshot whose image is neither restored nor staged");
        return;
      }
      image.image = *it->second;
      image.index = start.index;
      info.checker.committed_chain(start.index, &image.chain);
    }
    StateMachine& sm = sms_[g];
    sm = StateMachine{};
    if (image.index > 0) sm.kv.restore(image.image);
    sm.applied = image.index;
    sm.chain = image.chain;
    sm.durable = image.index;
    driver::GroupSpec spec;
    spec.id = g;
    spec.self = MultiCluster::replica_id(g, index_);
    for (size_t m : info.members) {
      spec.replicas.emplace(MultiCluster::replica_id(g, m), MultiCluster::node_name(m));
    }
    spec.raft = o.raft;
    spec.durable = log_.durable_state(g, image.index);
    spec.rng_seed = cluster_.sim().rng().next_u64();
    Status status = driver_->add_group(std::move(spec));
    TESSERA_ASSERT(status.is_ok());
    leader_checked_term_[g] = 0;
  }
}

void MultiNode::on_restart(MultiEnv& env) {
  env_ = &env;
  start();
  schedule(Wake::Kind::kIterate);
  env_ = nullptr;
}

void MultiNode::on_crash() {
  // Everything volatile goes: the driver, the state machines (their durable images stay),
  // queued apply work, requests waiting for answers.
  driver_.reset();
  sms_.clear();
  requests_.clear();
  ++cluster_.stats().crashes;
}

void MultiNode::schedule(Wake::Kind kind) {
  bool& pending = kind == Wake::Kind::kIterate ? iterate_pending_ : apply_pending_;
  if (pending) return;
  pending = true;
  // The event loop (or the apply threads) get to it a little later: inputs arriving meanwhile
  // are batched into the same iteration.
  const sim::Time delay_max = kind == Wake::Kind::kIterate ? cluster_.options().iterate_delay_max
                                                           : cluster_.options().apply_delay_max;
  const sim::Time delay = env_->rng.uniform(delay_max + 1);
  env_->net.send(env_->now + delay, index_, index_, MultiMsg{Wake{kind, incarnation_}});
}

void MultiNode::on_message(MultiEnv& env, EndpointId from, MultiMsg msg) {
  if (driver_ == nullptr) return;
  env_ = &env;
  if (auto* wake = std::get_if<Wake>(&msg)) {
    if (wake->incarnation == incarnation_) {
      if (wake->kind == Wake::Kind::kIterate) {
        iterate_pending_ = false;
        iterate();
      } else {
        apply_pending_ = false;
        run_apply();
      }
    }
  } else if (auto* batch = std::get_if<PeerBatch>(&msg)) {
    driver_->deliver(MultiCluster::node_name(from), std::move(batch->batch));
    schedule(Wake::Kind::kIterate);
  } else if (auto* transfer = std::get_if<SnapshotTransfer>(&msg)) {
    // Stage the image durably first; only then may the core see the message.
    staged_[{transfer->group, transfer->message.snapshot.index}] = transfer->image;
    gc_staged(transfer->group);
    driver::MessageBatch one;
    one.messages.push_back(driver::GroupMessage{transfer->group, std::move(transfer->message)});
    driver_->deliver(MultiCluster::node_name(from), std::move(one));
    schedule(Wake::Kind::kIterate);
  } else if (auto* request = std::get_if<ClientRequest>(&msg)) {
    handle_request(from, *request);
    schedule(Wake::Kind::kIterate);
  }
  env_ = nullptr;
}

void MultiNode::on_tick(MultiEnv& env) {
  if (driver_ == nullptr) return;
  env_ = &env;
  driver_->tick();
  schedule(Wake::Kind::kIterate);
  env_ = nullptr;
}

void MultiNode::iterate() {
  const driver::DriverStats before = driver_->stats();
  iteration_batches_.clear();
  if (!cluster_.quiesced() && env_->rng.chance(cluster_.options().torn_write)) {
    log_.arm_torn_write();
  }
  Status status = driver_->run_iteration();
  log_.disarm_torn_write();
  if (!status.is_ok()) {
    // Only a torn write fails the fake log: the process died inside its write.
    ++cluster_.stats().torn_writes;
    cluster_.sim().crash(static_cast<EndpointId>(index_));
    return;
  }
  const driver::DriverStats& after = driver_->stats();
  const uint64_t syncs = after.storage_syncs - before.storage_syncs;
  cluster_.stats().iterations += after.iterations - before.iterations;
  cluster_.stats().syncs += syncs;
  cluster_.stats().batches += after.batches_sent - before.batches_sent;
  cluster_.stats().messages += after.messages_sent - before.messages_sent;
  cluster_.stats().compactions += after.compactions - before.compactions;
  // The driver's promises: one sync per iteration at most, one batch per peer per phase (no
  // batch bound is reached in this simulation), one phase when nothing was persisted.
  if (syncs > 1) cluster_.fail("node " + name_ + ": " + std::to_string(syncs) + " syncs");
  for (const auto& [peer, count] : iteration_batches_) {
    if (count > (syncs == 0 ? 1u : 2u)) {
      cluster_.fail("node " + name_ + ": " + std::to_string(count) + " batches to " + peer +
                    " in one iteration with " + std::to_string(syncs) + " syncs");
    }
  }
  check_leaders();
  if (driver_->has_work()) schedule(Wake::Kind::kIterate);
}

size_t MultiNode::drain(MultiEnv& env, size_t iterations_max) {
  env_ = &env;
  size_t n = 0;
  while (driver_ != nullptr && n < iterations_max && driver_->has_work()) {
    iterate();
    ++n;
  }
  env_ = nullptr;
  return n;
}

void MultiNode::check_leaders() {
  for (GroupId g : groups_) {
    const Raft* core = driver_->core(g);
    if (core->role() != Role::kLeader || core->term() == leader_checked_term_[g]) continue;
    leader_checked_term_[g] = core->term();
    cluster_.group(g).checker.on_leader(MultiCluster::replica_id(g, index_), core->term());
  }
}

void MultiNode::send(const tessera::NodeId& to, driver::MessageBatch batch) {
  ++iteration_batches_[to];
  env_->send(static_cast<EndpointId>(MultiCluster::node_index(to)),
             MultiMsg{PeerBatch{std::move(batch)}});
}

void MultiNode::apply(GroupId group, std::vector<driver::ApplyItem> items) {
  StateMachine& sm = sms_[group];
  sim_harness::Checker& checker = cluster_.group(group).checker;
  const ReplicaId self = MultiCluster::replica_id(group, index_);
  for (driver::ApplyItem& item : items) {
    if (item.kind == driver::ApplyItem::Kind::kEntries) {
      // These entries are committed: record them (the first node to hand an index out
      // defines it; every other must agree).
      const Index from = item.entries.front().index - 1;
      uint64_t chain = 0;
      if (!checker.committed_chain(from, &chain)) {
        checker.fail("node " + name_ + " group " + std::to_string(group) +
                     " hands out entries after an unknown prefix at " + std::to_string(from));
        return;
      }
      const std::vector<Entry>& entries = item.entries;
      checker.on_commit(self, driver_->core(group)->term(), from, entries.back().index, chain,
                        [&](Index i) -> const Entry& { return entries[i - from - 1]; });
    }
    sm.queue.push_back(std::move(item));
  }
  schedule(Wake::Kind::kApply);
}

void MultiNode::run_apply() {
  const MultiOptions& o = cluster_.options();
  bool more = false;
  for (GroupId g : groups_) {
    StateMachine& sm = sms_[g];
    if (sm.queue.empty()) continue;
    // Groups apply independently and at their own pace.
    if (env_->rng.chance(0.3)) {
      more = true;
      continue;
    }
    apply_some(g, sm, 1 + env_->rng.uniform(o.apply_entries_per_wake_max));
    if (env_->rng.chance(o.sm_persist_chance)) {
      // The engine syncs: the state machine is durable up to what it applied.
      images_[g] = DurableImage{sm.kv.snapshot(), sm.applied, sm.chain};
      sm.durable = sm.applied;
      gc_staged(g);
    }
    driver_->applied(g, sm.applied, sm.durable);
    if (!sm.queue.empty()) more = true;
  }
  schedule(Wake::Kind::kIterate);
  if (more) schedule(Wake::Kind::kApply);
}

void MultiNode::apply_some(GroupId group, StateMachine& sm, size_t budget) {
  sim_harness::Checker& checker = cluster_.group(group).checker;
  const ReplicaId self = MultiCluster::replica_id(group, index_);
  while (budget > 0 && !sm.queue.empty()) {
    driver::ApplyItem& item = sm.queue.front();
    switch (item.kind) {
      case driver::ApplyItem::Kind::kEntries: {
        while (budget > 0 && sm.next_entry < item.entries.size()) {
          const Entry& e = item.entries[sm.next_entry++];
          --budget;
          sm.chain = checker.on_apply(self, sm.applied + 1, e, sm.chain);
          sm.applied = e.index;
          Index& high = applied_high_[group];
          if (e.index <= high) ++cluster_.stats().replayed;
          high = std::max(high, e.index);
          if (e.type != EntryType::kNormal) continue;
          std::optional<sim_harness::KvCommand> command = sim_harness::decode_command(e.data);
          if (command) sm.kv.apply(*command);
        }
        if (sm.next_entry < item.entries.size()) return;
        break;
      }
      case driver::ApplyItem::Kind::kRestore: {
        --budget;
        auto it = staged_.find({group, item.snapshot.index});
        if (it == staged_.end()) {
          cluster_.fail("node " + name_ + " group " + std::to_string(group) +
                        ": restore of a snapshot that was not staged, at " +
                        std::to_string(item.snapshot.index));
          return;
        }
        checker.on_snapshot(self, item.snapshot.index, item.snapshot.term);
        sm.kv.restore(*it->second);
        sm.applied = item.snapshot.index;
        checker.committed_chain(sm.applied, &sm.chain);
        ++cluster_.stats().snapshots_restored;
        break;
      }
      case driver::ApplyItem::Kind::kSendSnapshot: {
        --budget;
        // The image must be the state at exactly the index the message names.
        if (sm.applied != item.snapshot.index) {
          cluster_.fail("node " + name_ + " group " + std::to_string(group) +
                        ": snapshot for index " + std::to_string(item.snapshot.index) +
                        " made at applied index " + std::to_string(sm.applied));
          return;
        }
        auto image = std::make_shared<const std::string>(sm.kv.snapshot());
        env_->send(static_cast<EndpointId>(MultiCluster::node_index(item.to)),
                   MultiMsg{SnapshotTransfer{group, std::move(item.message), std::move(image)}});
        ++cluster_.stats().snapshots_sent;
        break;
      }
    }
    sm.queue.pop_front();
    sm.next_entry = 0;
  }
}

void MultiNode::gc_staged(GroupId group) {
  // An image the state machine holds durably is needed no more; the one the log starts at is
  // needed until then; of the rest (messages the core may still step), keep the newest few.
  const Index durable = images_[group].index;
  const Index start = log_.start(group).index;
  size_t kept = 0;
  for (auto it = staged_.lower_bound({group + 1, 0}); it != staged_.begin();) {
    --it;
    if (it->first.first != group) break;
    const Index index = it->first.second;
    const bool needed = index == start && index > durable;
    if (!needed && (index <= durable || ++kept > kStagedPerGroupMax)) {
      it = staged_.erase(it);
    }
  }
}

void MultiNode::handle_request(EndpointId from, const ClientRequest& request) {
  const driver::Token token = next_token_++;
  requests_[token] = PendingRequest{from, request};
  if (request.write) {
    sim_harness::KvCommand command{request.client, request.seq, request.key, request.value};
    driver_->propose(request.group, token, sim_harness::encode_command(command));
  } else {
    driver_->read_index(request.group, token);
  }
}

void MultiNode::reply(EndpointId to, const ClientRequest& request, bool ok, uint64_t value,
                      const tessera::NodeId& hint) {
  ClientReply r{request.group, request.client, request.seq, ok, value, -1};
  if (!hint.empty()) r.leader_hint = static_cast<int64_t>(MultiCluster::node_index(hint));
  env_->send(to, MultiMsg{r});
}

void MultiNode::proposal_done(const driver::Reply& r) {
  auto it = requests_.find(r.token);
  TESSERA_ASSERT(it != requests_.end());
  const PendingRequest p = it->second;
  requests_.erase(it);
  if (r.answer == driver::Answer::kOk) ++cluster_.stats().writes_acked;
  reply(p.client, p.request, r.answer == driver::Answer::kOk, 0, r.leader_hint);
}

void MultiNode::read_done(const driver::Reply& r) {
  auto it = requests_.find(r.token);
  TESSERA_ASSERT(it != requests_.end());
  const PendingRequest p = it->second;
  requests_.erase(it);
  if (r.answer != driver::Answer::kOk) {
    reply(p.client, p.request, false, 0, r.leader_hint);
    return;
  }
  const StateMachine& sm = sms_[r.group];
  if (sm.applied < r.index) {
    cluster_.fail("node " + name_ + " group " + std::to_string(r.group) + ": read at index " +
                  std::to_string(r.index) + " answered with the state machine at " +
                  std::to_string(sm.applied));
    return;
  }
  ++cluster_.stats().reads_served;
  reply(p.client, p.request, true, sm.kv.get(p.request.key), {});
}

std::string MultiNode::describe_group(GroupId group) {
  const StateMachine& sm = sms_[group];
  return "sm" + std::to_string(sm.applied) + "/" + std::to_string(sm.durable) + " q" +
         std::to_string(sm.queue.size()) + (iterate_pending_ ? " I" : "") +
         (apply_pending_ ? " A" : "") + (driver_->has_work() ? " W" : "");
}

void MultiNode::leader_changed(GroupId, const tessera::NodeId&, Term) {}

}  // namespace tessera::raft::multi_sim
