#include "local_replicas.h"

#include <fstream>
#include <set>

#include <spdlog/spdlog.h>

namespace tessera::leader {
namespace fs = std::filesystem;

namespace {

std::vector<Replica> replicas_of(const std::vector<NodeId>& voters) {
  std::vector<Replica> out;
  for (size_t i = 0; i < voters.size(); ++i) out.push_back({i + 1, voters[i]});
  return out;
}

std::vector<NodeId> ids_of(const std::vector<NodeInfo>& nodes) {
  std::vector<NodeId> out;
  for (const NodeInfo& node : nodes) out.push_back(node.id);
  return out;
}

}  // namespace

LocalReplicas::LocalReplicas(const LeaderConfig& config, fs::path dir, Engine* engine,
                             const Conflict* conflict, Placement* placement,
                             ReplicationGroups* groups, node::WorkerPool* pool)
    : config_(config),
      dir_(std::move(dir)),
      engine_(engine),
      conflict_(conflict),
      placement_(placement),
      groups_(groups),
      pool_(pool) {
  std::lock_guard lock(routes_mutex_);
  voters_[kMetadataGroup] = ids_of(config_.metadata_voters());
}

LocalReplicas::~LocalReplicas() { close(); }

Status LocalReplicas::open() {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) return Status::io_error("cannot create " + dir_.string() + ": " + error.message());
  TESSERA_ASSIGN_OR_RETURN(metadata_, MetadataStore::open(dir_ / "metadata.sqlite"));
  TESSERA_RETURN_IF_ERROR(placement_->set_members(config_.peers).status());
  for (const auto& [group, replica] : groups_->groups_on_disk()) on_disk_[group] = replica;

  const fs::path marker = dir_ / "metadata.founded";
  const std::vector<NodeId> founders = ids_of(config_.metadata_voters());
  if (on_disk_.contains(kMetadataGroup)) {
    TESSERA_RETURN_IF_ERROR(groups_->open_group(kMetadataGroup, metadata_.get()));
  } else if (fs::exists(marker)) {
    return Status::corruption("the metadata group was founded on this node but is not on disk (" +
                              dir_.string() + " lost its raft log): refusing to found it again");
  } else {
    std::vector<Replica> voters = replicas_of(founders);
    TESSERA_RETURN_IF_ERROR(
        groups_->found_group(kMetadataGroup, voters[config_.self], voters, 0, metadata_.get()));
    std::ofstream(marker) << "founded\n";
  }
  open_ = true;
  return refresh();
}

Status LocalReplicas::refresh() {
  if (!open_) return Status::ok();
  const uint64_t generation = metadata_->generation();
  if (installed_map_ && generation == generation_seen_) return Status::ok();
  TESSERA_ASSIGN_OR_RETURN(RangeMap map, metadata_->range_map());
  if (!map.ranges.empty() || installed_map_) {
    // The plugin refuses a generation it has (a restart replays to the same one): harmless.
    Result<std::vector<RangeMove>> installed = placement_->set_range_map(map);
    if (!installed.is_ok() && installed_map_) {
      spdlog::warn("range map of generation {}: {}", map.generation,
                   installed.status().to_string());
    }
    installed_map_ = true;
  }
  {
    std::lock_guard lock(routes_mutex_);
    for (const RangeDescriptor& range : map.ranges) {
      voters_[range.group] = range.voters;
      range_of_group_[range.group] = range.id;
      group_of_range_[range.id] = range.group;
    }
  }
  std::set<uint64_t> present;
  for (const RangeDescriptor& range : map.ranges) {
    present.insert(range.id);
    const bool voter =
        std::find(range.voters.begin(), range.voters.end(), self().id) != range.voters.end();
    auto it = ranges_.find(range.id);
    if (it != ranges_.end()) {
      Status updated = it->second->set_descriptor(range);
      if (!updated.is_ok()) spdlog::warn("range {}: {}", range.id, updated.to_string());
    } else if (voter) {
      Status hosted = host(range);
      // Tried again at every refresh; logged when the reason changes, not every 20 ms.
      std::string& last = host_errors_[range.id];
      if (!hosted.is_ok() && hosted.to_string() != last) {
        spdlog::error("range {} (group {}): cannot host it: {}", range.id, range.group,
                      hosted.to_string());
      }
      last = hosted.is_ok() ? std::string() : hosted.to_string();
    }
  }
  for (auto it = ranges_.begin(); it != ranges_.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    const GroupId group = group_of(it->first);
    (void)groups_->close_group(group);
    // Its data goes off the event loop: a large range takes a while to delete. The pool drains
    // before the engine closes; a crash midway leaves the rest (the range is in no map).
    std::shared_ptr<RangeStateMachine> gone(std::move(it->second));
    (void)pool_->run([gone, id = it->first]() {
      Status deleted = gone->destroy();
      if (!deleted.is_ok()) spdlog::warn("range {}: deleting its data: {}", id, deleted.to_string());
      return deleted;
    });
    it = ranges_.erase(it);
  }
  generation_seen_ = map.generation;
  return Status::ok();
}

Status LocalReplicas::host(const RangeDescriptor& range) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<uint64_t> table, metadata_->table_id(range.range.table));
  if (!table) return Status::not_found("table " + range.range.table + " is not in the metadata");
  TESSERA_ASSIGN_OR_RETURN(
      std::unique_ptr<RangeStateMachine> state,
      RangeStateMachine::open(engine_, conflict_, static_cast<uint32_t>(*table), range,
                              {.sync_every_entries = config_.sync_every_entries}));
  if (on_disk_.contains(range.group)) {
    TESSERA_RETURN_IF_ERROR(groups_->open_group(range.group, state.get()));
  } else {
    // A new range: every voter founds it alike, from the committed descriptor.
    std::vector<Replica> voters = replicas_of(range.voters);
    auto self = std::find_if(voters.begin(), voters.end(),
                             [&](const Replica& r) { return r.node == this->self().id; });
    TESSERA_RETURN_IF_ERROR(groups_->found_group(range.group, *self, voters, 0, state.get()));
    on_disk_[range.group] = self->id;
  }
  ranges_[range.id] = std::move(state);
  return Status::ok();
}

void LocalReplicas::close() {
  if (!open_) return;
  open_ = false;
  for (const auto& [id, state] : ranges_) (void)groups_->close_group(group_of(id));
  (void)groups_->close_group(kMetadataGroup);
  ranges_.clear();
}

RangeStateMachine* LocalReplicas::range(uint64_t range_id) const {
  auto it = ranges_.find(range_id);
  return it == ranges_.end() ? nullptr : it->second.get();
}

std::string LocalReplicas::group_of(uint64_t range_id) const {
  std::lock_guard lock(routes_mutex_);
  auto it = group_of_range_.find(range_id);
  return it == group_of_range_.end() ? std::string() : it->second;
}

uint64_t LocalReplicas::range_of_group(const GroupId& group) const {
  std::lock_guard lock(routes_mutex_);
  auto it = range_of_group_.find(group);
  return it == range_of_group_.end() ? 0 : it->second;
}

std::optional<NodeInfo> LocalReplicas::resolve(const GroupId& group, ReplicaId replica) const {
  NodeId node;
  {
    std::lock_guard lock(routes_mutex_);
    auto it = voters_.find(group);
    if (it == voters_.end() || replica == 0 || replica > it->second.size()) return std::nullopt;
    node = it->second[replica - 1];
  }
  for (const NodeInfo& peer : config_.peers) {
    if (peer.id == node) return peer;
  }
  return std::nullopt;
}

}  // namespace tessera::leader
