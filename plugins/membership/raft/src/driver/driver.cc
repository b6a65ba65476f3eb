// The driver's iteration: ticks, inputs, one storage write, batched sends, apply hand-off.
#include "driver/driver.h"

#include <algorithm>
#include <utility>

#include "tessera/assert.h"

namespace tessera::raft::driver {

const char* to_string(Answer answer) {
  switch (answer) {
    case Answer::kOk:
      return "ok";
    case Answer::kNotLeader:
      return "not-leader";
    case Answer::kLost:
      return "lost";
    case Answer::kUnknown:
      return "unknown";
    case Answer::kBusy:
      return "busy";
    case Answer::kNoGroup:
      return "no-group";
    case Answer::kRejected:
      return "rejected";
  }
  return "?";
}

Driver::Driver(tessera::NodeId self, DriverOptions options, DurableLog& log, Transport& transport,
               ApplySink& apply, Events& events)
    : self_(std::move(self)),
      options_(options),
      log_(log),
      transport_(transport),
      apply_(apply),
      events_(events) {
  TESSERA_REQUIRE(options_.messages_per_batch_max >= 1);
  TESSERA_REQUIRE(options_.inputs_per_iteration_max >= 1);
}

Status Driver::add_group(GroupSpec spec) {
  if (spec.self == kNoNode) return Status::invalid_argument("replica id 0 is reserved");
  if (groups_.contains(spec.id)) {
    return Status::invalid_argument("group " + std::to_string(spec.id) + " is hosted already");
  }
  const GroupId id = spec.id;
  groups_.emplace(id, std::make_unique<Group>(std::move(spec), self_, &stats_));
  return Status::ok();
}

void Driver::remove_group(GroupId group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return;
  it->second->abandon(events_);
  groups_.erase(it);
}

Status Driver::set_replica_node(GroupId group, ReplicaId replica, tessera::NodeId node) {
  Group* g = find(group);
  if (g == nullptr) return Status::not_found("group " + std::to_string(group) + " is not hosted");
  g->set_node(replica, std::move(node));
  return Status::ok();
}

Group* Driver::find(GroupId group) {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : it->second.get();
}

const Raft* Driver::core(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second->core();
}

tessera::NodeId Driver::leader(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? tessera::NodeId() : it->second->leader_node();
}

void Driver::deliver(const tessera::NodeId& from, MessageBatch batch) {
  if (inputs_.size() >= options_.input_queue_max) {
    ++stats_.dropped_inputs;
    return;
  }
  Input input;
  input.kind = Input::Kind::kBatch;
  input.batch = std::move(batch);
  inputs_.push_back(std::move(input));
}

void Driver::propose(GroupId group, Token token, std::string data) {
  if (inputs_.size() >= options_.input_queue_max) {
    events_.proposal_done(Reply{group, token, Answer::kBusy, 0, 0, {}});
    return;
  }
  Input input;
  input.kind = Input::Kind::kPropose;
  input.group = group;
  input.token = token;
  input.data = std::move(data);
  inputs_.push_back(std::move(input));
}

void Driver::read_index(GroupId group, Token token) {
  if (inputs_.size() >= options_.input_queue_max) {
    events_.read_done(Reply{group, token, Answer::kBusy, 0, 0, {}});
    return;
  }
  Input input;
  input.kind = Input::Kind::kRead;
  input.group = group;
  input.token = token;
  inputs_.push_back(std::move(input));
}

void Driver::applied(GroupId group, Index applied, Index durable) {
  // Never refused: dropping it would leave requests waiting for an apply that already happened.
  Input input;
  input.kind = Input::Kind::kApplied;
  input.group = group;
  input.a = applied;
  input.b = durable;
  inputs_.push_back(std::move(input));
}

void Driver::transfer_leadership(GroupId group, ReplicaId target) {
  if (inputs_.size() >= options_.input_queue_max) return;
  Input input;
  input.kind = Input::Kind::kTransfer;
  input.group = group;
  input.a = target;
  inputs_.push_back(std::move(input));
}

void Driver::tick() {
  if (ticks_due_ < options_.ticks_per_iteration_max) ++ticks_due_;
}

bool Driver::has_work() const {
  if (!failed_.is_ok()) return false;
  if (!inputs_.empty() || ticks_due_ > 0) return true;
  bool stalled = false;
  for (const auto& [id, g] : groups_) {
    if (g->wants_ready(options_, &stalled)) return true;
  }
  return false;
}

void Driver::step_input(Input& input) {
  if (input.kind == Input::Kind::kBatch) {
    for (GroupMessage& gm : input.batch.messages) {
      Group* g = find(gm.group);
      // A group this node does not host (yet, or any more), or a message for an earlier
      // incarnation's replica: Raft treats it as lost.
      if (g == nullptr || gm.message.to != g->self()) {
        ++stats_.dropped_messages;
        continue;
      }
      g->step(std::move(gm.message));
    }
    return;
  }
  Group* g = find(input.group);
  switch (input.kind) {
    case Input::Kind::kPropose:
      if (g == nullptr) {
        events_.proposal_done(Reply{input.group, input.token, Answer::kNoGroup, 0, 0, {}});
        return;
      }
      g->propose(input.token, std::move(input.data), options_, events_);
      return;
    case Input::Kind::kRead:
      if (g == nullptr) {
        events_.read_done(Reply{input.group, input.token, Answer::kNoGroup, 0, 0, {}});
        return;
      }
      g->read_index(input.token, options_, events_);
      return;
    case Input::Kind::kApplied:
      if (g != nullptr) g->on_applied(input.a, input.b, options_, events_);
      return;
    case Input::Kind::kTransfer:
      if (g != nullptr) (void)g->transfer_leadership(input.a);
      return;
    case Input::Kind::kBatch:
      return;
  }
}

void Driver::route(Group& group, std::vector<Message> messages, Outbox& outbox,
                   std::vector<Message>* snapshots) {
  for (Message& m : messages) {
    const tessera::NodeId* node = group.node_of(m.to);
    if (node == nullptr) {
      ++stats_.unroutable_messages;
      continue;
    }
    if (Group::is_snapshot(m)) {
      snapshots->push_back(std::move(m));
      continue;
    }
    ++stats_.messages_sent;
    outbox.add(*node, GroupMessage{group.id(), std::move(m)});
  }
}

void Driver::flush(Outbox& outbox, bool early) {
  outbox.drain([&](const tessera::NodeId& node, MessageBatch batch) {
    ++stats_.batches_sent;
    if (early) ++stats_.early_batches_sent;
    transport_.send(node, std::move(batch));
  });
}

Status Driver::run_iteration() {
  if (!failed_.is_ok()) return failed_;
  // 1. Time.
  const uint32_t ticks = ticks_due_;
  ticks_due_ = 0;
  for (uint32_t t = 0; t < ticks; ++t) {
    for (auto& [id, g] : groups_) g->tick();
  }
  // 2. Inputs.
  size_t stepped = 0;
  for (; stepped < options_.inputs_per_iteration_max && !inputs_.empty(); ++stepped) {
    Input input = std::move(inputs_.front());
    inputs_.pop_front();
    step_input(input);
  }
  // 3. Readies.
  ready_groups_.clear();
  for (auto& [id, g] : groups_) {
    bool stalled = false;
    if (g->wants_ready(options_, &stalled)) {
      g->take_ready();
      ready_groups_.push_back(g.get());
    } else if (stalled) {
      ++stats_.apply_stalls;
    }
  }
  if (ticks == 0 && stepped == 0 && ready_groups_.empty()) return Status::ok();
  ++stats_.iterations;

  LogWrite write;
  for (Group* g : ready_groups_) {
    GroupWrite w = g->write();
    if (!w.empty()) write.groups.push_back(w);
  }
  std::vector<std::vector<Message>> snapshots(ready_groups_.size());
  Outbox outbox(options_.messages_per_batch_max, options_.batch_bytes_max);
  // 4. Early messages: leaders' appends go out while the leader persists the same entries.
  for (size_t i = 0; i < ready_groups_.size(); ++i) {
    route(*ready_groups_[i], ready_groups_[i]->take_early_messages(), outbox, &snapshots[i]);
  }
  if (write.empty()) {
    // Nothing to persist: early and late messages are one phase, one batch per node.
    for (size_t i = 0; i < ready_groups_.size(); ++i) {
      route(*ready_groups_[i], ready_groups_[i]->take_late_messages(), outbox, &snapshots[i]);
    }
    flush(outbox, false);
  } else {
    flush(outbox, true);
    // 5. One write, one sync, every group.
    Status status = log_.write(write);
    if (!status.is_ok()) {
      failed_ = status;
      return status;
    }
    ++stats_.storage_syncs;
    for (const GroupWrite& w : write.groups) stats_.entries_persisted += w.entries.size();
    // 6. Messages that promise what was just persisted.
    for (size_t i = 0; i < ready_groups_.size(); ++i) {
      route(*ready_groups_[i], ready_groups_[i]->take_late_messages(), outbox, &snapshots[i]);
    }
    flush(outbox, false);
  }
  // 7. Apply, in each group's log order.
  for (size_t i = 0; i < ready_groups_.size(); ++i) {
    Group& g = *ready_groups_[i];
    stats_.snapshots_requested += snapshots[i].size();
    std::vector<ApplyItem> items = g.apply_items(std::move(snapshots[i]), events_);
    if (!items.empty()) apply_.apply(g.id(), std::move(items));
  }
  // 8. Advance.
  for (Group* g : ready_groups_) g->advance();
  for (auto& [id, g] : groups_) g->announce_leader(events_);
  return Status::ok();
}

}  // namespace tessera::raft::driver
