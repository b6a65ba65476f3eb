#include "raft/log.h"

#include <algorithm>

#include "tessera/assert.h"

namespace tessera::raft {

RaftLog::RaftLog(LogStorage* storage, size_t cache_bytes_max)
    : storage_(storage), cache_bytes_max_(cache_bytes_max) {
  TESSERA_REQUIRE(storage_ != nullptr);
}

void RaftLog::restore_durable(const DurableState& durable) {
  TESSERA_REQUIRE(durable.last_index >= durable.snapshot.index);
  snapshot_index_ = durable.snapshot.index;
  snapshot_term_ = durable.snapshot.term;
  last_index_ = durable.last_index;
  runs_.clear();
  for (const TermRun& run : durable.term_runs) {
    TESSERA_REQUIRE(run.first <= last_index_);
    if (runs_.empty()) {
      TESSERA_REQUIRE(run.first == snapshot_index_ + 1);
      TESSERA_REQUIRE(run.term >= snapshot_term_);
    } else {
      TESSERA_REQUIRE(run.first > runs_.back().first);
      TESSERA_REQUIRE(run.term >= runs_.back().term);
      if (run.term == runs_.back().term) continue;
    }
    runs_.push_back(run);
  }
  TESSERA_REQUIRE(runs_.empty() == (last_index_ == snapshot_index_));
  entries_.clear();
  cached_bytes_ = 0;
  cached_from_ = last_index_ + 1;
  persisted_ = last_index_;
  unstable_from_ = last_index_ + 1;
  // Below the start point the log lacks what the state machine misses (a snapshot image not
  // restored yet): the host must restore it first.
  TESSERA_REQUIRE(durable.applied >= snapshot_index_);
  TESSERA_REQUIRE(durable.applied <= last_index_);
  applied_ = durable.applied;
  // A commit index beyond the durable log cannot be trusted to name these entries; what the
  // state machine applied was committed.
  committed_ = std::clamp(durable.hard_state.commit, snapshot_index_, last_index_);
  committed_ = std::max(committed_, applied_);
}

std::optional<Term> RaftLog::term(Index i) const {
  if (i == snapshot_index_) return snapshot_term_;
  if (i < snapshot_index_ || i > last_index_) return std::nullopt;
  auto it = std::upper_bound(runs_.begin(), runs_.end(), i,
                             [](Index index, const TermRun& run) { return index < run.first; });
  TESSERA_ASSERT(it != runs_.begin());
  return std::prev(it)->term;
}

const Entry* RaftLog::cached(Index i) const {
  if (i < cached_from_ || i > last_index_) return nullptr;
  return &entries_[i - cached_from_];
}

void RaftLog::push(Entry entry) {
  TESSERA_ASSERT(entry.index == last_index_ + 1);
  TESSERA_ASSERT(entry.term >= last_term());
  TESSERA_ASSERT(cached_from_ + entries_.size() == entry.index);
  if (runs_.empty() || runs_.back().term != entry.term) {
    runs_.push_back(TermRun{entry.index, entry.term});
  }
  last_index_ = entry.index;
  cached_bytes_ += cost(entry);
  entries_.push_back(std::move(entry));
}

void RaftLog::truncate_from(Index from) {
  TESSERA_ASSERT(from > snapshot_index_);
  TESSERA_ASSERT(from <= last_index_);
  while (!runs_.empty() && runs_.back().first >= from) runs_.pop_back();
  if (from <= cached_from_) {
    entries_.clear();
    cached_bytes_ = 0;
    cached_from_ = from;
  } else {
    while (cached_from_ + entries_.size() > from) {
      cached_bytes_ -= cost(entries_.back());
      entries_.pop_back();
    }
  }
  last_index_ = from - 1;
  persisted_ = std::min(persisted_, last_index_);
}

void RaftLog::evict() {
  // Only persisted entries may go: the rest exist nowhere else yet.
  while (!entries_.empty() && cached_bytes_ > cache_bytes_max_ &&
         entries_.front().index <= persisted_) {
    cached_bytes_ -= cost(entries_.front());
    entries_.pop_front();
    ++cached_from_;
  }
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
  if (from <= last_index_) truncate_from(from);
  *written_from = from;
  unstable_from_ = std::min(unstable_from_, from);
  for (; k < entries.size(); ++k) push(std::move(entries[k]));
  evict();
  return last_new;
}

void RaftLog::append_one(Entry entry) {
  push(std::move(entry));
  evict();
}

std::pair<Index, Term> RaftLog::find_conflict_by_term(Index index, Term t) const {
  if (index < snapshot_index_) return {index, 0};
  index = std::min(index, last_index_);
  auto it = std::upper_bound(runs_.begin(), runs_.end(), index,
                             [](Index i, const TermRun& run) { return i < run.first; });
  // Walk back one run (one term) at a time; `index` stays inside the run before `it`.
  while (it != runs_.begin()) {
    --it;
    if (it->term <= t) return {index, it->term};
    index = it->first - 1;
  }
  return {snapshot_index_, snapshot_term_};
}

Result<std::vector<Entry>> RaftLog::slice(Index lo, Index hi, size_t count_max, size_t bytes_max) {
  TESSERA_ASSERT(lo >= first_index());
  TESSERA_ASSERT(hi <= last_index_ + 1);
  TESSERA_ASSERT(lo <= hi);
  std::vector<Entry> out;
  size_t bytes = 0;
  Index i = lo;
  // The part before the kept entries comes from the storage, a chunk per call; each call
  // returns at least one entry, so the loop is bounded by count_max.
  while (i < hi && i < cached_from_ && out.size() < count_max) {
    const Index stop = std::min({hi, cached_from_, i + (count_max - out.size())});
    const size_t budget = bytes < bytes_max ? bytes_max - bytes : 0;
    if (!out.empty() && budget == 0) return out;
    ++storage_reads_;
    Result<std::vector<Entry>> chunk = storage_->entries(i, stop, out.empty() ? bytes_max : budget);
    if (!chunk.is_ok()) {
      ++storage_read_errors_;
      return chunk.status();
    }
    TESSERA_ASSERT(!chunk->empty());
    TESSERA_ASSERT(chunk->size() <= stop - i);
    for (Entry& e : *chunk) {
      TESSERA_ASSERT(e.index == i);
      TESSERA_ASSERT(term(i) == e.term);
      bytes += e.data.size();
      if (!out.empty() && bytes > bytes_max) return out;
      out.push_back(std::move(e));
      ++i;
    }
  }
  for (; i < hi && out.size() < count_max; ++i) {
    const Entry& e = entries_[i - cached_from_];
    bytes += e.data.size();
    if (!out.empty() && bytes > bytes_max) break;
    out.push_back(e);
  }
  return out;
}

std::vector<Entry> RaftLog::unstable_entries() const {
  TESSERA_ASSERT(unstable_from_ >= cached_from_ || unstable_from_ > last_index_);
  std::vector<Entry> out;
  for (Index i = unstable_from_; i <= last_index_; ++i) out.push_back(entries_[i - cached_from_]);
  return out;
}

void RaftLog::commit_to(Index index) {
  if (index <= committed_) return;
  TESSERA_ASSERT(index <= last_index_);
  committed_ = index;
}

void RaftLog::applied_to(Index index) {
  if (index <= applied_) return;
  TESSERA_ASSERT(index <= committed_);
  applied_ = index;
}

void RaftLog::persisted_to(Index index) {
  TESSERA_ASSERT(index <= last_index_);
  persisted_ = std::max(persisted_, index);
  evict();
}

void RaftLog::compact(Index index) {
  TESSERA_ASSERT(index <= applied_);
  if (index <= snapshot_index_) return;
  const Term t = *term(index);
  while (!entries_.empty() && entries_.front().index <= index) {
    cached_bytes_ -= cost(entries_.front());
    entries_.pop_front();
  }
  cached_from_ = std::max(cached_from_, index + 1);
  while (runs_.size() >= 2 && runs_[1].first <= index + 1) runs_.pop_front();
  if (index == last_index_) {
    runs_.clear();
  } else {
    runs_.front().first = std::max(runs_.front().first, index + 1);
  }
  snapshot_index_ = index;
  snapshot_term_ = t;
}

void RaftLog::restore_snapshot(Index index, Term t) {
  entries_.clear();
  cached_bytes_ = 0;
  cached_from_ = index + 1;
  runs_.clear();
  snapshot_index_ = index;
  snapshot_term_ = t;
  last_index_ = index;
  committed_ = index;
  // applied and persisted move to `index` when the host has persisted and restored it.
  applied_ = std::min(applied_, index);
  persisted_ = std::min(persisted_, index);
  unstable_from_ = index + 1;
}

}  // namespace tessera::raft
