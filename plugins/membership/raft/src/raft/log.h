// RaftLog: one node's view of its log from the last snapshot point on: the terms of every
// entry, the entries themselves only where memory allows, and the indexes that say how far
// the log is persisted, committed and applied.
//
// Purpose: bounded memory. The terms of all entries stay in memory as runs (one per term),
// so term(i) never reads storage; entries are kept for [cached_from(), last_index()], which
// always covers every entry not yet persisted, and older persisted ones are dropped once the
// kept entries exceed the cache bound; anything before is read back through LogStorage
// (slice()). Indexes obey
//   snapshot_index <= applied <= committed <= last_index,  applied <= persisted <= last_index,
// and entries at or above unstable_from have not yet been handed to the host to persist.
// Thread-safety: none; owned by one Raft. Ownership: owns its entries; borrows the storage.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "raft/storage.h"
#include "raft/types.h"

namespace tessera::raft {

class RaftLog {
 public:
  // Each kept entry counts its data plus this much toward the cache bound.
  static constexpr size_t kEntryOverheadBytes = sizeof(Entry);

  // REQUIRES: storage != nullptr, outlives the log.
  RaftLog(LogStorage* storage, size_t cache_bytes_max);

  // Rebuilds from durable state: the whole log is persisted (and not cached); committed comes
  // from the hard state (clamped to the log) but is at least `applied`. REQUIRES: what
  // DurableState documents.
  void restore_durable(const DurableState& durable);

  Index snapshot_index() const { return snapshot_index_; }
  Term snapshot_term() const { return snapshot_term_; }
  Index first_index() const { return snapshot_index_ + 1; }
  Index last_index() const { return last_index_; }
  Term last_term() const { return runs_.empty() ? snapshot_term_ : runs_.back().term; }
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
  const std::deque<TermRun>& term_runs() const { return runs_; }

  // The kept entries: [cached_from(), last_index()]; entry i if kept, else nullptr.
  Index cached_from() const { return cached_from_; }
  const Entry* cached(Index i) const;
  size_t cached_bytes() const { return cached_bytes_; }

  // Follower side: appends `entries` after (prev_index, prev_term) if that entry matches,
  // truncating a conflicting suffix. Returns the index of the last new entry, or nullopt on
  // mismatch. *written_from is set to the first index written (a conflicting suffix from
  // there on was replaced), or 0 if every entry was already present.
  std::optional<Index> maybe_append(Index prev_index, Term prev_term, std::vector<Entry>& entries,
                                    Index* written_from);
  // Leader side: appends at the end. REQUIRES: entry.index == last_index() + 1.
  void append_one(Entry entry);

  // Largest index <= index whose term is <= t (the fast back-off probe), and its term. Below
  // the snapshot the term is unknown: the index itself comes back, with term 0.
  std::pair<Index, Term> find_conflict_by_term(Index index, Term t) const;

  // Entries [lo, hi) up to the count and byte bounds (at least one entry when lo < hi), from
  // memory where kept, else read through the storage. Error: the storage's, counted in
  // storage_read_errors(). REQUIRES: first_index() <= lo <= hi <= last_index() + 1.
  Result<std::vector<Entry>> slice(Index lo, Index hi, size_t count_max, size_t bytes_max);
  // Copies of the entries not yet handed out, [unstable_from(), last_index()] (always kept).
  std::vector<Entry> unstable_entries() const;

  void commit_to(Index index);
  void applied_to(Index index);
  void persisted_to(Index index);
  void mark_handed_out() { unstable_from_ = last_index() + 1; }

  // Drops entries up to `index`, which becomes the snapshot point. REQUIRES: index <= applied.
  void compact(Index index);
  // Replaces the whole log by a snapshot point (install on a follower).
  void restore_snapshot(Index index, Term t);

  // Reads through the storage, and how many of them failed.
  uint64_t storage_reads() const { return storage_reads_; }
  uint64_t storage_read_errors() const { return storage_read_errors_; }

 private:
  void push(Entry entry);
  void truncate_from(Index from);
  void evict();
  static size_t cost(const Entry& e) { return e.data.size() + kEntryOverheadBytes; }

  LogStorage* const storage_;
  const size_t cache_bytes_max_;
  std::deque<Entry> entries_;  // [cached_from_, last_index_]
  Index cached_from_ = 1;
  size_t cached_bytes_ = 0;
  std::deque<TermRun> runs_;  // terms of (snapshot_index_, last_index_]
  Index snapshot_index_ = 0;
  Term snapshot_term_ = 0;
  Index last_index_ = 0;
  Index committed_ = 0;
  Index applied_ = 0;
  Index persisted_ = 0;
  Index unstable_from_ = 1;
  uint64_t storage_reads_ = 0;
  uint64_t storage_read_errors_ = 0;
};

}  // namespace tessera::raft
