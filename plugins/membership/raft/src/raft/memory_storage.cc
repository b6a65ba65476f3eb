#include "raft/memory_storage.h"

#include <algorithm>

#include "tessera/assert.h"

namespace tessera::raft {

Result<std::vector<Entry>> MemoryLogStorage::entries(Index lo, Index hi, size_t bytes_max) {
  ++reads_;
  if (lo <= snapshot_.index || hi > last_index() + 1 || lo >= hi) {
    return Status::not_found("entries outside the stored log");
  }
  std::vector<Entry> out;
  size_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - snapshot_.index - 1];
    bytes += e.data.size();
    if (!out.empty() && bytes > bytes_max) break;
    out.push_back(e);
  }
  return out;
}

void MemoryLogStorage::persist(const std::optional<SnapshotMeta>& snapshot,
                               const std::vector<Entry>& entries,
                               const std::optional<HardState>& hard_state) {
  if (snapshot) {
    snapshot_ = *snapshot;
    entries_.clear();
  }
  if (!entries.empty()) {
    const Index first = entries.front().index;
    TESSERA_REQUIRE(first > snapshot_.index);
    TESSERA_REQUIRE(first <= last_index() + 1);
    entries_.resize(first - snapshot_.index - 1);
    for (const Entry& e : entries) entries_.push_back(e);
  }
  if (hard_state) hard_state_ = *hard_state;
}

void MemoryLogStorage::compact(const SnapshotMeta& meta) {
  if (meta.index <= snapshot_.index) return;
  const size_t drop = std::min<size_t>(entries_.size(), meta.index - snapshot_.index);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(drop));
  snapshot_ = meta;
}

DurableState MemoryLogStorage::durable_state(Index applied) {
  DurableState d;
  d.hard_state = hard_state_;
  d.snapshot = snapshot_;
  d.applied = applied;
  d.storage = this;
  d.last_index = last_index();
  for (const Entry& e : entries_) {
    if (d.term_runs.empty() || d.term_runs.back().term != e.term) {
      d.term_runs.push_back(TermRun{e.index, e.term});
    }
    if (e.type == EntryType::kConfChange) d.conf_entries.push_back(e);
  }
  return d;
}

}  // namespace tessera::raft
