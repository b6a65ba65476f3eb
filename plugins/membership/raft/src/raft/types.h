// Raft value types: ids, log entries, hard state, configurations and snapshots.
//
// Purpose: the plain data the core exchanges with its host (what to persist, what to apply)
// and with peers (inside messages). Thread-safety: plain values. Ownership: entries own their
// bytes; snapshots are shared immutably (std::shared_ptr<const Snapshot>) because the same
// snapshot is persisted, applied and sent to several peers.
#pragma once

#include <cstdint>
#include <memory>
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

struct SnapshotMeta {
  Index index = 0;  // last log index the snapshot covers
  Term term = 0;    // term of that entry
  ConfState conf;   // configuration in effect at `index`
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // opaque state-machine image, produced by the host
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// The durable state a node restarts from: exactly what it persisted through Ready, nothing
// else. A brand-new group starts every founding member from a snapshot at index 0 whose conf
// lists the founders; a node joining later starts with an empty conf and learns the group
// from the leader.
struct DurableState {
  HardState hard_state;
  SnapshotPtr snapshot;        // may be null: index 0, term 0, empty conf
  std::vector<Entry> entries;  // contiguous, starting right after the snapshot
};

}  // namespace tessera::raft
