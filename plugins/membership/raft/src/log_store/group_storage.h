// GroupStorage: one group's part of the shared log as the Raft core's LogStorage
// (raft/storage.h), and the DurableState a group restarts from, filled from the log's memory
// alone (terms as runs, configuration entries, hard state, start point: no disk read).
//
// Thread-safety: as LogStore (one thread at a time: the driver's, which is also the thread the
// cores run on). Ownership: borrows the LogStore, which must outlive it.
#pragma once

#include <string>

#include "log_store/log_store.h"
#include "raft/storage.h"

namespace tessera::raftlog {

class GroupStorage final : public raft::LogStorage {
 public:
  GroupStorage(LogStore* store, GroupId group) : store_(store), group_(group) {}

  Result<std::vector<Entry>> entries(Index lo, Index hi, size_t bytes_max) override {
    return store_->entries(group_, lo, hi, bytes_max);
  }

  GroupId group() const { return group_; }

 private:
  LogStore* const store_;
  const GroupId group_;
};

// The state `group` restarts from, `applied` being the state machine's durable applied index.
// Errors: NotFound when the group is absent; InvalidArgument when applied < start.index (the
// log no longer has what the state machine lacks: a staged snapshot must be restored first);
// Corruption when applied > last_index (the state machine has entries the log lost, which a
// log synced before apply never does).
inline Result<raft::DurableState> durable_state(const LogStore& store, GroupId group, Index applied,
                                                raft::LogStorage* storage) {
  raft::DurableState state;
  TESSERA_ASSIGN_OR_RETURN(state.hard_state, store.hard_state(group));
  TESSERA_ASSIGN_OR_RETURN(state.snapshot, store.start(group));
  TESSERA_ASSIGN_OR_RETURN(state.last_index, store.last_index(group));
  TESSERA_ASSIGN_OR_RETURN(state.term_runs, store.term_runs(group));
  TESSERA_ASSIGN_OR_RETURN(state.conf_entries, store.conf_entries(group));
  if (applied < state.snapshot.index) {
    return Status::invalid_argument("group " + std::to_string(group) + ": applied index " +
                                    std::to_string(applied) + " is below the log's start " +
                                    std::to_string(state.snapshot.index));
  }
  if (applied > state.last_index) {
    return Status::corruption("group " + std::to_string(group) + ": applied index " +
                              std::to_string(applied) + " is beyond the log's last index " +
                              std::to_string(state.last_index));
  }
  state.applied = applied;
  state.storage = storage;
  return state;
}

}  // namespace tessera::raftlog
