// Raft value types: ids, log entries, hard state, configurations, snapshot metadata and the
// durable state a node restarts from.
//
// Purpose: the plain data the core exchanges with its host (what to persist, what to apply)
// and with peers (inside messages). Snapshots are metadata only: the state-machine image is
// the host's business (it makes one for a kSnapshot message and restores one when a Ready
// says so). Thread-safety: plain values. Ownership: entries own their bytes; DurableState
// borrows its LogStorage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::raft {

using NodeId = uint64_t;
using Term = uint64_t;
using Index = uint64_t;

inline constexpr NodeId kNoNode = 0;  // node ids start at 1

enum class EntryType : uint8_t {
  kNormal = 0,      // host data (empty data: the leader's no-op at the start of its term)
  kConfChange = 1,  // data is an encoded ConfState (conf_change.h): the whole new configuration
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  bool operator==(const Entry&) const = default;
};

// What must survive a crash besides the log. Persisted before any message that depends on it.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  bool operator==(const HardState&) const = default;
};

// A configuration: voters decide elections and commits; learners only receive the log.
// Both lists are sorted and disjoint.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;

  bool operator==(const ConfState&) const = default;
  bool is_voter(NodeId id) const;
  bool is_learner(NodeId id) const;
  bool contains(NodeId id) const { return is_voter(id) || is_learner(id); }
};

// A point of the log: the last index a state-machine image covers (or the log was compacted
// to), its term, and the configuration in effect there. The core keeps no image data.
struct SnapshotMeta {
  Index index = 0;  // last log index covered
  Term term = 0;    // term of that entry
  ConfState conf;   // configuration in effect at `index`

  bool operator==(const SnapshotMeta&) const = default;
};

// The terms of a stretch of log, run-length encoded: entries [first, next run's first) have
// `term` (the last run goes to the end of the log). Terms only grow along a log, so a log of
// any length has one run per term it saw.
struct TermRun {
  Index first = 0;
  Term term = 0;

  bool operator==(const TermRun&) const = default;
};

class LogStorage;  // raft/storage.h

// The durable state a node restarts from: exactly what it persisted through Ready (plus the
// state machine's durable applied index), without the log's data, which stays in `storage`.
// A log store that keeps, per group, the terms of its records (as runs) and its few
// configuration entries in memory fills this without reading the log.
// A brand-new group starts every founding member from snapshot {0, 0, founders} and an empty
// log; a node joining later starts with an empty conf and learns the group from the leader.
struct DurableState {
  HardState hard_state;
  SnapshotMeta snapshot;  // the log's start point: entries up to snapshot.index are gone
  // The state machine's durable applied index: restart applies from applied + 1 on, entries up
  // to it are not handed out again. REQUIRES: snapshot.index <= applied <= last_index.
  Index applied = 0;
  // The persisted log (snapshot.index, last_index]. Borrowed: must outlive the Raft.
  // REQUIRES: != nullptr.
  LogStorage* storage = nullptr;
  Index last_index = 0;  // REQUIRES: >= snapshot.index
  // Terms of (snapshot.index, last_index]: ascending, non-decreasing terms, the first run
  // starting at snapshot.index + 1; empty when the log is empty.
  std::vector<TermRun> term_runs;
  // The kConfChange entries in (snapshot.index, last_index], ascending (the configuration in
  // effect is the last one in the log, so the core needs them without reading the log).
  std::vector<Entry> conf_entries;
};

}  // namespace tessera::raft
