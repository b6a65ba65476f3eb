// LocalReplicas: the Raft group replicas one node of the leader profile hosts, and the range
// map it routes by.
//
// The metadata group ("meta") runs on the first peers of [leader] (leader_config.h); on its first
// start a node founds it with those peers as voters (replica i+1 is the i-th peer), and a marker
// file keeps it from ever founding it again: a node whose data directory lost the group refuses
// to start. Until the metadata service is founded, every node proposes `found` with the static
// peer list; the first to commit founds the cluster, the others are refused as already founded.
//
// The watch: every node hosts a metadata replica, so the metadata it applies is the push. On
// each generation change (refresh(), polled by the profile) the node pulls the range map,
// installs it in the placement plugin, and brings its range replicas in line: a range whose
// voters include this node is reopened from disk or, when new, founded with the descriptor's
// voters (replica i+1 is the i-th voter); a descriptor whose epoch moved updates its state
// machine; a range that is gone is closed and its data deleted from the engine.
//
// Thread-safety: open(), refresh(), close() and range() are called on the event loop thread
// (refresh() queues deletions on the worker pool).
// resolve() and group_of() are called by the plugin's threads and take `routes_mutex_`.
// Ownership: borrows the engine, conflict, placement and groups; all outlive it.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "leader_config.h"
#include "metadata_store.h"
#include "range_state_machine.h"
#include "tessera/conflict.h"
#include "tessera/engine.h"
#include "tessera/node/worker_pool.h"
#include "tessera/placement.h"
#include "tessera/replication.h"

namespace tessera::leader {

inline constexpr const char* kMetadataGroup = "meta";

class LocalReplicas {
 public:
  // `pool` deletes the data of ranges that are gone.
  LocalReplicas(const LeaderConfig& config, std::filesystem::path dir, Engine* engine,
                const Conflict* conflict, Placement* placement, ReplicationGroups* groups,
                node::WorkerPool* pool);
  ~LocalReplicas();

  // Opens the metadata store and its group (founding it on the first start), then the ranges
  // the metadata already knows. Corruption when a founded group is missing from disk.
  Status open();
  // Follows the metadata to its current generation (see the top). Cheap when nothing changed.
  Status refresh();
  // Closes every group this node opened. Idempotent.
  void close();

  MetadataStore& metadata() { return *metadata_; }
  uint64_t generation_seen() const { return generation_seen_; }
  // This node's replica of range `range_id`, or null when it hosts none.
  RangeStateMachine* range(uint64_t range_id) const;
  // The group that replicates `range_id`, or "" when the map does not know it.
  std::string group_of(uint64_t range_id) const;
  // The range a group replicates (0 for the metadata group or an unknown group).
  uint64_t range_of_group(const GroupId& group) const;
  // Where a replica of `group` lives, for the plugin (ReplicaResolver).
  std::optional<NodeInfo> resolve(const GroupId& group, ReplicaId replica) const;
  const NodeInfo& self() const { return config_.peers[config_.self]; }
  std::vector<NodeInfo> metadata_voters() const { return config_.metadata_voters(); }
  // Voters for a new range: spread over zones, then the least loaded (the placement's choice).
  Result<std::vector<NodeId>> choose_voters(size_t count) const {
    return placement_->choose_replicas(count, {});
  }

 private:
  // Opens or founds the replica of `range` here. REQUIRES: this node is one of its voters.
  Status host(const RangeDescriptor& range);

  const LeaderConfig config_;
  const std::filesystem::path dir_;
  Engine* const engine_;
  const Conflict* const conflict_;
  Placement* const placement_;
  ReplicationGroups* const groups_;
  node::WorkerPool* const pool_;

  std::unique_ptr<MetadataStore> metadata_;
  std::map<GroupId, ReplicaId> on_disk_;  // groups this node had at open()
  std::map<uint64_t, std::unique_ptr<RangeStateMachine>> ranges_;  // by range id
  std::map<uint64_t, std::string> host_errors_;  // the last reason a range could not be hosted
  uint64_t generation_seen_ = 0;
  bool installed_map_ = false;
  bool open_ = false;

  mutable std::mutex routes_mutex_;
  // (routes_mutex_) each group's voters in replica-id order, and which range it replicates
  std::map<GroupId, std::vector<NodeId>> voters_;
  std::map<GroupId, uint64_t> range_of_group_;
  std::map<uint64_t, GroupId> group_of_range_;
};

}  // namespace tessera::leader
