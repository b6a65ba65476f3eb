// MetadataStore: the leader profile's metadata service state, one Raft group's state machine
// over SQLite.
//
// What it records: the cluster's founding (once), nodes with their addresses and zones, tables
// with ids that are never reused, and the ranges of every table (RangeDescriptor: bounds,
// epoch, group, voters, learners, last known leader, transition state). Every committed
// command (framework/schema/metadata.capnp) is applied in log order; a batch of commands and
// the applied index are written in one SQLite transaction, so the index on disk always names
// exactly the commands whose effects are there. The database runs in WAL mode with
// synchronous=FULL: a committed transaction is on disk, and durable_index() is the applied
// index.
//
// The range map has a generation that every change to it raises (a new or dropped table, a
// replaced range, a new leader). Watchers ask for the changes after the generation they have
// (changes_since); the last kChangesKept changes are kept, and a watcher that is further
// behind pulls the whole map (range_map).
//
// Snapshots are the whole database (metadata is small: kilobytes to a few megabytes), written
// with SQLite's online backup so that a restore replaces the state in one transaction.
//
// Thread-safety: the GroupStateMachine calls come from the plugin's apply thread; the queries
// may be called from any thread. One mutex serializes all of them.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/replication.h"
#include "tessera/status.h"

namespace tessera::leader {

// Commands, encoded for ReplicationGroups::propose.
Bytes encode_found(const std::string& cluster_id, std::span<const NodeInfo> nodes);
Bytes encode_put_node(const NodeInfo& node);
// A table's range as createTable makes it: from `start` ("" for the first) to the next one's.
struct TableRange {
  Bytes start;
  std::string group;
  std::vector<NodeId> voters;
};
Bytes encode_create_table(const std::string& name, const std::string& group,
                          std::span<const NodeId> voters);
// REQUIRES: ranges is not empty and ranges[0].start is empty.
Bytes encode_create_table(const std::string& name, std::span<const TableRange> ranges);
Bytes encode_drop_table(const std::string& name);
// Compare and set, all or none: each range only if its current epoch is its expect_epoch (0:
// a new range) and its new epoch is expect_epoch + 1; every table touched must stay tiled.
struct RangeUpdate {
  RangeDescriptor range;
  uint64_t expect_epoch = 0;
};
Bytes encode_put_ranges(std::span<const RangeUpdate> updates);
Bytes encode_set_leader(uint64_t range_id, const NodeId& leader);

// What a command's result bytes say: the command's status (a refusal names why), and for
// createTable the new table's id and its first range's id (the others follow it in key order); the map's generation after it.
struct CommandResult {
  Status status;
  uint64_t table_id = 0;
  uint64_t range_id = 0;
  uint64_t generation = 0;
};
CommandResult decode_result(ByteView bytes);

// The ranges changed after a generation: their current descriptors, and the ids of those that
// no longer exist (a dropped table).
struct RangeChanges {
  uint64_t generation = 0;  // the map's generation now
  std::vector<RangeDescriptor> changed;
  std::vector<uint64_t> removed;
  bool nodes_changed = false;  // a node was added or its address or zone changed: pull nodes()
};

class MetadataStore final : public GroupStateMachine {
 public:
  static constexpr uint64_t kChangesKept = 1024;

  // Opens or creates the database at `file`. IOError or Corruption naming the file when SQLite
  // cannot open it or it is not a metadata database.
  static Result<std::unique_ptr<MetadataStore>> open(const std::filesystem::path& file);
  ~MetadataStore() override;

  Status apply(std::span<const Command> commands, std::vector<Bytes>& results) override;
  LogIndex durable_index() const override;
  Result<Image> snapshot() override;
  Status restore(LogIndex index, SnapshotChunks& chunks) override;

  bool founded() const;
  uint64_t generation() const;
  Result<RangeMap> range_map() const;
  Result<std::vector<NodeInfo>> nodes() const;
  // The id of table `name`, or nullopt when there is no such table.
  Result<std::optional<uint64_t>> table_id(const std::string& name) const;
  // The changes after `generation`; nullopt when they are no longer all kept (pull range_map).
  Result<std::optional<RangeChanges>> changes_since(uint64_t generation) const;

 private:
  MetadataStore(sqlite3* db, std::filesystem::path file);

  // Each REQUIRES: mutex_ held.
  Status load_counters();

  mutable std::mutex mutex_;
  sqlite3* db_;
  const std::filesystem::path file_;
  LogIndex applied_ = 0;
  uint64_t generation_ = 0;
  bool founded_ = false;
};

}  // namespace tessera::leader
