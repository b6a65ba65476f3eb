#include "plugin/apply_stage.h"

#include <boost/asio/post.hpp>
#include <future>
#include <string>

namespace tessera::raft_plugin {

using raft::driver::ApplyItem;

ApplyStage::ApplyStage(size_t threads, SnapshotStaging* staging, Callbacks callbacks)
    : staging_(staging), callbacks_(std::move(callbacks)), pool_(threads) {
  TESSERA_REQUIRE(threads >= 1, "an apply stage needs a thread");
}

ApplyStage::~ApplyStage() { pool_.join(); }

void ApplyStage::add_group(DriverGroupId group, GroupStateMachine* state) {
  std::lock_guard lock(mu_);
  TESSERA_REQUIRE(groups_.count(group) == 0, "group added twice to the apply stage");
  groups_[group] = std::make_shared<GroupState>(group, state, pool_);
}

void ApplyStage::remove_group(DriverGroupId group) {
  std::shared_ptr<GroupState> state;
  {
    std::lock_guard lock(mu_);
    auto it = groups_.find(group);
    if (it == groups_.end()) return;
    state = it->second;
    groups_.erase(it);
  }
  // The strand runs in order: once this item runs, every earlier one of the group has.
  std::promise<void> drained;
  boost::asio::post(state->strand, [&drained]() { drained.set_value(); });
  drained.get_future().wait();
}

std::shared_ptr<ApplyStage::GroupState> ApplyStage::find(DriverGroupId group) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : it->second;
}

void ApplyStage::apply(DriverGroupId group, std::vector<ApplyItem> items) {
  std::shared_ptr<GroupState> state = find(group);
  if (state == nullptr) return;  // removed meanwhile: nobody waits for these any more
  boost::asio::post(state->strand, [this, state, items = std::move(items)]() mutable {
    for (ApplyItem& item : items) {
      if (state->failed) return;
      Status status;
      switch (item.kind) {
        case ApplyItem::Kind::kEntries:
          status = run_entries(*state, item.entries);
          break;
        case ApplyItem::Kind::kRestore:
          status = run_restore(*state, item.snapshot);
          break;
        case ApplyItem::Kind::kSendSnapshot:
          status = run_send_snapshot(*state, item);
          break;
      }
      if (!status.is_ok()) {
        state->failed = true;
        callbacks_.failed(state->id, status);
      }
    }
  });
}

Status ApplyStage::run_entries(GroupState& group, const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return Status::ok();
  std::vector<Command> commands;
  commands.reserve(entries.size());
  for (const raft::Entry& e : entries) {
    // The state machine sees every index; a configuration change is the plugin's own.
    const bool own = e.type != raft::EntryType::kNormal;
    commands.push_back(Command{e.index, own ? ByteView() : ByteView(e.data)});
  }
  std::vector<Bytes> results;
  TESSERA_RETURN_IF_ERROR(group.state->apply(commands, results));
  for (size_t k = 0; k < results.size() && k < commands.size(); ++k) {
    if (!results[k].empty()) keep_result(group, commands[k].index, std::move(results[k]));
  }
  callbacks_.applied(group.id, entries.back().index, group.state->durable_index());
  return Status::ok();
}

Status ApplyStage::run_restore(GroupState& group, const raft::SnapshotMeta& meta) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotChunks> chunks,
                           staging_->read(group.id, meta.index));
  TESSERA_RETURN_IF_ERROR(group.state->restore(meta.index, *chunks));
  const raft::Index durable = group.state->durable_index();
  if (durable >= meta.index) staging_->remove_up_to(group.id, meta.index);
  {
    std::lock_guard lock(group.results_mu);
    group.results.clear();  // nothing before the image is proposed from here any more
  }
  callbacks_.applied(group.id, meta.index, durable);
  return Status::ok();
}

Status ApplyStage::run_send_snapshot(GroupState& group, ApplyItem& item) {
  TESSERA_ASSIGN_OR_RETURN(GroupStateMachine::Image image, group.state->snapshot());
  if (image.index != item.snapshot.index) {
    return Status::internal("group " + std::to_string(group.id) +
                            ": the state machine's image is at index " +
                            std::to_string(image.index) + ", the snapshot message names " +
                            std::to_string(item.snapshot.index));
  }
  callbacks_.send_snapshot(item.to, group.id, std::move(item.message), std::move(image.chunks));
  return Status::ok();
}

void ApplyStage::keep_result(GroupState& group, raft::Index index, Bytes result) {
  std::lock_guard lock(group.results_mu);
  if (group.results.size() >= kResultsPerGroupMax) group.results.pop_front();
  group.results.emplace_back(index, std::move(result));
}

std::optional<Bytes> ApplyStage::take_result(DriverGroupId group, raft::Index index) {
  std::shared_ptr<GroupState> state = find(group);
  if (state == nullptr) return std::nullopt;
  std::lock_guard lock(state->results_mu);
  for (auto it = state->results.begin(); it != state->results.end(); ++it) {
    if (it->first == index) {
      Bytes result = std::move(it->second);
      state->results.erase(it);
      return result;
    }
  }
  return std::nullopt;
}

}  // namespace tessera::raft_plugin
