// RaftLog: the in-memory log of one node, from its last snapshot on, with the indexes that
// say how far it is persisted, committed and applied.
//
// Purpose: the core keeps every entry since the last snapshot in memory (the host compacts
// through Raft::compact), so the core never reads storage. Indexes obey
//   snapshot_index <= applied <= committed <= last_index,  applied <= persisted <= last_index,
// and entries at or above unstable_from have not yet been handed to the host to persist.
// Thread-safety: none; owned by one Raft. Ownership: owns its entries.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "raft/types.h"

namespace tessera::raft {

class RaftLog {
 public:
  RaftLog() = default;
  // Rebuilds from durable state: everything given is persisted; committed from the hard state.
  void restore_durable(Index snapshot_index, Term snapshot_term, std::vector<Entry> entries,
                       Index committed);

  Index snapshot_index() const { return snapshot_index_; }
  Term snapshot_term() const { return snapshot_term_; }
  Index first_index() const { return snapshot_index_ + 1; }
  Index last_index() const { return snapshot_index_ + entries_.size(); }
  Term last_term() const { return entries_.empty() ? snapshot_term_ : entries_.back().term; }
  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  Index persisted() const { return persisted_; }
  Index unstable_from() const { return unstable_from_; }

  // Term of entry i; nullopt if compacted away (i < snapshot index) or past the end.
  std::optional<Term> term(Index i) const;
  bool match_term(Index i, Term t) const { return term(i) == t; }
  // Raft's "at least as up-to-date" rule for votes.
  bool is_up_to_date(Index index, Term t) const {
    return t > last_term() || (t == last_term() && index >= last_index());
  }

  // REQUIRES: first_index() <= i <= last_index().
  const Entry& at(Index i) const { return entries_[i - first_index()]; }

  // Follower side: appends `entries` after (prev_index, prev_term) if that entry matches,
  // truncating a conflicting suffix. Returns the index of the last new entry, or nullopt on
  // mismatch. *written_from is set to the first index written (a conflicting suffix from
  // there on was replaced), or 0 if every entry was already present.
  std::optional<Index> maybe_append(Index prev_index, Term prev_term, std::vector<Entry>& entries,
                                    Index* written_from);
  // Leader side: appends at the end. REQUIRES: entries[0].index == last_index() + 1.
  void append(std::vector<Entry>&& entries);
  void append_one(Entry entry);

  // Largest index <= index whose term is <= t (the fast back-off probe), and its term. Below
  // the snapshot the term is unknown: the index itself comes back, with term 0.
  std::pair<Index, Term> find_conflict_by_term(Index index, Term t) const;

  // Copies entries [lo, hi) up to the count and byte bounds (always at least one entry).
  // REQUIRES: first_index() <= lo <= hi <= last_index() + 1.
  std::vector<Entry> slice(Index lo, Index hi, size_t count_max, size_t bytes_max) const;

  void commit_to(Index index);
  void applied_to(Index index);
  void persisted_to(Index index);
  void mark_handed_out() { unstable_from_ = last_index() + 1; }

  // Drops entries up to `index`, which becomes the snapshot point. REQUIRES: index <= applied.
  void compact(Index index, Term t);
  // Replaces the whole log by a snapshot point (install on a follower).
  void restore_snapshot(Index index, Term t);

 private:
  std::deque<Entry> entries_;
  Index snapshot_index_ = 0;
  Term snapshot_term_ = 0;
  Index committed_ = 0;
  Index applied_ = 0;
  Index persisted_ = 0;
  Index unstable_from_ = 1;
};

}  // namespace tessera::raft
