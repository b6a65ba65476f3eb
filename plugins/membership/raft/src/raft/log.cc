#include "raft/log.h"

#include <algorithm>

#include "tessera/assert.h"

namespace tessera::raft {

void RaftLog::restore_durable(Index snapshot_index, Term snapshot_term, std::vector<Entry> entries,
                              Index committed) {
  snapshot_index_ = snapshot_index;
  snapshot_term_ = snapshot_term;
  entries_.assign(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
  for (size_t k = 0; k < entries_.size(); ++k) {
    TESSERA_ASSERT(entries_[k].index == snapshot_index_ + 1 + k);
  }
  persisted_ = last_index();
  unstable_from_ = last_index() + 1;
  applied_ = snapshot_index_;
  // A commit index beyond the durable log cannot be trusted to name these entries.
  committed_ = std::clamp(committed, snapshot_index_, last_index());
}

std::optional<Term> RaftLog::term(Index i) const {
  if (i == snapshot_index_) return snapshot_term_;
  if (i < snapshot_index_ || i > last_index()) return std::nullopt;
  return entries_[i - first_index()].term;
}

std::optional<Index> RaftLog::maybe_append(Index prev_index, Term prev_term,
                                           std::vector<Entry>& entries, Index* written_from) {
  *written_from = 0;
  if (!match_term(prev_index, prev_term)) return std::nullopt;
  const Index last_new = prev_index + entries.size();
  // First entry that is new or conflicts; entries already present with equal terms stay.
  size_t k = 0;
  for (; k < entries.size(); ++k) {
    const Entry& e = entries[k];
    TESSERA_ASSERT(e.index == prev_index + 1 + k);
    if (e.index <= snapshot_index_) continue;  // covered by our snapshot: committed, equal
    if (!match_term(e.index, e.term)) break;
  }
  if (k == entries.size()) return last_new;
  const Index from = entries[k].index;
  TESSERA_ASSERT(from > committed_);  // a committed entry never conflicts
  if (from <= last_index()) {
    entries_.resize(from - first_index());
    persisted_ = std::min(persisted_, from - 1);
  }
  *written_from = from;
  unstable_from_ = std::min(unstable_from_, from);
  for (; k < entries.size(); ++k) entries_.push_back(std::move(entries[k]));
  return last_new;
}

void RaftLog::append(std::vector<Entry>&& entries) {
  for (Entry& e : entries) append_one(std::move(e));
}

void RaftLog::append_one(Entry entry) {
  TESSERA_ASSERT(entry.index == last_index() + 1);
  entries_.push_back(std::move(entry));
}

std::pair<Index, Term> RaftLog::find_conflict_by_term(Index index, Term t) const {
  if (index < snapshot_index_) return {index, 0};
  index = std::min(index, last_index());
  while (index > snapshot_index_) {
    const Term here = entries_[index - first_index()].term;
    if (here <= t) return {index, here};
    --index;
  }
  return {snapshot_index_, snapshot_term_};
}

std::vector<Entry> RaftLog::slice(Index lo, Index hi, size_t count_max, size_t bytes_max) const {
  TESSERA_ASSERT(lo >= first_index());
  TESSERA_ASSERT(hi <= last_index() + 1);
  std::vector<Entry> out;
  size_t bytes = 0;
  for (Index i = lo; i < hi && out.size() < count_max; ++i) {
    const Entry& e = entries_[i - first_index()];
    bytes += e.data.size();
    if (!out.empty() && bytes > bytes_max) break;
    out.push_back(e);
  }
  return out;
}

void RaftLog::commit_to(Index index) {
  if (index <= committed_) return;
  TESSERA_ASSERT(index <= last_index());
  committed_ = index;
}

void RaftLog::applied_to(Index index) {
  if (index <= applied_) return;
  TESSERA_ASSERT(index <= committed_);
  applied_ = index;
}

void RaftLog::persisted_to(Index index) {
  TESSERA_ASSERT(index <= last_index());
  persisted_ = std::max(persisted_, index);
}

void RaftLog::compact(Index index, Term t) {
  TESSERA_ASSERT(index <= applied_);
  if (index <= snapshot_index_) return;
  TESSERA_ASSERT(term(index) == t);
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<ptrdiff_t>(index - snapshot_index_));
  snapshot_index_ = index;
  snapshot_term_ = t;
}

void RaftLog::restore_snapshot(Index index, Term t) {
  entries_.clear();
  snapshot_index_ = index;
  snapshot_term_ = t;
  committed_ = index;
  // applied and persisted move to `index` when the host has persisted and applied it.
  applied_ = std::min(applied_, index);
  persisted_ = std::min(persisted_, index);
  unstable_from_ = index + 1;
}

}  // namespace tessera::raft
