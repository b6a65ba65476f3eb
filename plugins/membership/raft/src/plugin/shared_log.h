// SharedLog: the node's one LogStore as the driver's DurableLog and as each group core's
// LogStorage, and the recovery of a group's DurableState from it.
//
// Purpose: the adapters between the log store (log_store/log_store.h) and what the driver and
// the cores ask of storage. Every driver iteration becomes one LogStore::write with one sync;
// a core's read-back of entries beyond its cache becomes LogStore::entries.
//
// Group names: the store names each group with `<replica id>:<group id>`, so that the replica
// id a node has in a group (new for each incarnation) survives with the group's log.
//
// Thread-safety: none; the driver's thread only (the LogStore is single-threaded too).
// Ownership: borrows the store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "driver/durable_log.h"
#include "log_store/group_storage.h"
#include "log_store/log_store.h"
#include "raft/storage.h"
#include "tessera/replication.h"

namespace tessera::raft_plugin {

// What the store holds of one group, by the plugin's names.
struct StoredGroup {
  raft::driver::GroupId id = 0;
  GroupId name;
  ReplicaId self = 0;
};

class SharedLog final : public raft::driver::DurableLog {
 public:
  explicit SharedLog(raftlog::LogStore* store) : store_(store) {}

  // driver::DurableLog: one store write, one sync.
  Status write(const raft::driver::LogWrite& write) override;

  // Every group in the store, with its name and this node's replica id in it. Corruption for
  // a store name that is not `<replica>:<group>`.
  Result<std::vector<StoredGroup>> groups() const;
  // Creates a group's log, durably (one synced write), so that found and join are never
  // forgotten. `id` must be unused.
  Status create(raft::driver::GroupId id, const GroupId& name, ReplicaId self,
                const raft::SnapshotMeta& start);
  // Removes a group's log, durably.
  Status remove(raft::driver::GroupId id);
  // The core's view of one group's persisted log. The returned storage lives as long as this.
  raft::LogStorage* storage(raft::driver::GroupId id);
  // The group's durable state as the core restarts from it, resuming after `applied` (the
  // state machine's durable index). REQUIRES: start index <= applied.
  Result<raft::DurableState> recover(raft::driver::GroupId id, LogIndex applied);

 private:
  raftlog::LogStore* const store_;
  std::map<raft::driver::GroupId, std::unique_ptr<raftlog::GroupStorage>> storages_;
  std::vector<raftlog::GroupWrite> scratch_;
};

}  // namespace tessera::raft_plugin
