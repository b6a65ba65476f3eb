// GroupLog: the in-memory index of one group's entries in the shared log: where each entry's
// bytes are (segment, offset, length: 12 bytes per entry) and its term, kept as runs of equal
// terms (one run per leader change, not per entry), and the few configuration entries whole
// (the core needs them at restart without reading the log). Other entry data stays on disk.
//
// The indexed entries are [first_index(), last_index()]; when empty, last_index() is
// first_index() - 1 (the log's start point). Thread-safety: a value, one thread at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "raft/types.h"

namespace tessera::raftlog {

using raft::Index;
using raft::Term;

struct EntryLocation {
  uint32_t segment = 0;  // segment number (format.h keeps them below 2^32)
  uint32_t offset = 0;   // of the entry's encoding in the segment
  uint32_t length = 0;   // of the entry's encoding, entry_check included
};

using raft::TermRun;  // entries from `first` up to the next run's first have `term`

class GroupLog {
 public:
  GroupLog() = default;
  explicit GroupLog(Index first_index) : first_(first_index) {}

  Index first_index() const { return first_; }
  Index last_index() const { return first_ + locations_.size() - 1; }
  bool empty() const { return locations_.empty(); }
  size_t size() const { return locations_.size(); }

  // REQUIRES: first_index() <= index <= last_index().
  Term term(Index index) const;
  const EntryLocation& location(Index index) const { return locations_[index - first_]; }
  // The oldest segment a live entry is in. REQUIRES: !empty().
  uint32_t first_segment() const { return locations_.front().segment; }
  const std::deque<TermRun>& term_runs() const { return runs_; }
  const std::deque<raft::Entry>& conf_entries() const { return conf_entries_; }

  // REQUIRES: index == last_index() + 1.
  void append(Index index, Term term, const EntryLocation& location);
  // Keeps a copy of the configuration entry just appended. REQUIRES: e.index == last_index().
  void add_conf_entry(const raft::Entry& e);
  // Drops entries index.. (nothing when index > last_index()). REQUIRES: index >= first_index().
  void truncate_from(Index index);
  // Drops entries ..index; the log then starts at max(first_index(), index + 1), possibly
  // beyond its old end.
  void drop_through(Index index);
  // Drops every entry; the log starts at first_index.
  void reset(Index first_index);

  size_t memory_bytes() const {
    size_t bytes = locations_.size() * sizeof(EntryLocation) + runs_.size() * sizeof(TermRun);
    for (const raft::Entry& e : conf_entries_) bytes += sizeof(e) + e.data.size();
    return bytes;
  }

 private:
  Index first_ = 1;
  std::deque<EntryLocation> locations_;
  std::deque<TermRun> runs_;  // sorted by first; runs_.front().first == first_ when non-empty
  std::deque<raft::Entry> conf_entries_;  // the kConfChange entries among the indexed ones
};

}  // namespace tessera::raftlog
