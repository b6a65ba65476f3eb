// TableStates: the AP cluster's tables as cluster state, agreed by exchange, not a broadcast.
//
// Every node keeps, for each table name it has heard of, the table's state: live or dropped,
// and the stamp of the change that set it (milliseconds of the node that made it, then its id,
// so that any two changes are ordered). States converge by exchange (Replica.exchangeTables,
// between any two members, at every change and periodically): the higher stamp wins on every
// node, and each node brings its own copy of the table in line with the winner:
//   - a winning drop drops the local table and its data;
//   - a winning create makes the table where it is missing. A local copy stays, data and all,
//     unless the winner follows a drop newer than the create that copy came from: the table
//     was dropped and made again while this node was away, so the copy is dropped and made
//     anew, and the old data does not come back.
// Two creates of one name that did not know of each other make one table: the higher stamp
// wins and neither copy loses data. A create at a node whose clock is behind a drop it never
// heard of loses to that drop: last writer wins, by the stamps.
//
// A state is LocalStore's table record (local_store.h), changed in the same atomic batch as
// the local table, so that a crash keeps both or neither. Records of drops are kept for good:
// one small record per name ever used. A table found without a record (made before states
// existed) counts as created at stamp 0 by this node, which any later change supersedes.
//
// Thread-safety: every method may be called concurrently; those that change state write
// synced and block (run them on the worker pool). Ownership: borrows the store.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/node/local_store.h"
#include "tessera/status.h"

namespace tessera::dynamo {

// When a table change was made and where: ordered by `ms`, then by `node`.
struct TableStamp {
  uint64_t ms = 0;
  NodeId node;
  auto operator<=>(const TableStamp&) const = default;
};

struct TableState {
  std::string name;
  bool live = false;
  TableStamp stamp;  // of the create (live) or the drop that set this state
  // Live: the newest drop this create followed ({} when none): a copy made before it is gone.
  TableStamp after_drop;
  bool operator==(const TableState&) const = default;
};

// The bytes of a state as LocalStore keeps it, and back (Corruption for bytes that are not).
Bytes encode_table_state(const TableState& state);
Result<TableState> decode_table_state(std::string name, ByteView bytes);

class TableStates {
 public:
  // Reads the states from `store`'s table records, adopting tables that have none.
  // `now_ms` stamps this node's changes.
  static Result<std::unique_ptr<TableStates>> open(node::LocalStore* store, NodeId self,
                                                   std::function<uint64_t()> now_ms);

  // A change made here: stamped later than both the clock and every state this node knows of
  // the name. TableExists / NoSuchTable (and InvalidArgument for a bad name) as LocalStore's.
  Status create(const std::string& name);
  Status drop(const std::string& name);

  // Takes every state of `incoming` that supersedes this node's (a higher stamp), changing the
  // local tables to match. Stops at the first store error (the rest are taken at the next
  // exchange). Returns how many states were taken.
  Result<size_t> merge(const std::vector<TableState>& incoming);

  // Every state this node knows, by name.
  std::vector<TableState> states() const;
  std::optional<TableState> state_of(const std::string& name) const;

 private:
  TableStates(node::LocalStore* store, NodeId self, std::function<uint64_t()> now_ms,
              std::map<std::string, TableState> states);
  // A stamp of this node later than the clock and than `after`.
  TableStamp next_stamp(const TableStamp& after) const;
  // Brings the local table in line with `winner`, which supersedes `known` (nullopt: none).
  // REQUIRES: change_mutex_ held.
  Status take(const TableState& winner, const std::optional<TableState>& known);
  void remember(const TableState& state);

  node::LocalStore* const store_;
  const NodeId self_;
  const std::function<uint64_t()> now_ms_;
  std::mutex change_mutex_;  // one change at a time, held across its store writes
  mutable std::mutex mutex_;
  std::map<std::string, TableState> states_;  // (mutex_)
};

}  // namespace tessera::dynamo
