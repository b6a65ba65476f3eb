#include "log_store/group_log.h"

#include <algorithm>

#include "tessera/assert.h"

namespace tessera::raftlog {

Term GroupLog::term(Index index) const {
  TESSERA_REQUIRE(index >= first_ && index <= last_index());
  // The last run starting at or before index.
  auto it = std::upper_bound(runs_.begin(), runs_.end(), index,
                             [](Index i, const TermRun& run) { return i < run.first; });
  TESSERA_ASSERT(it != runs_.begin());
  return std::prev(it)->term;
}

void GroupLog::append(Index index, Term term, const EntryLocation& location) {
  TESSERA_REQUIRE(index == last_index() + 1);
  if (runs_.empty() || runs_.back().term != term) runs_.push_back({index, term});
  locations_.push_back(location);
}

void GroupLog::add_conf_entry(const raft::Entry& e) {
  TESSERA_REQUIRE(!empty() && e.index == last_index());
  conf_entries_.push_back(e);
}

void GroupLog::truncate_from(Index index) {
  TESSERA_REQUIRE(index >= first_);
  if (index > last_index()) return;
  locations_.resize(index - first_);
  while (!runs_.empty() && runs_.back().first >= index) runs_.pop_back();
  while (!conf_entries_.empty() && conf_entries_.back().index >= index) conf_entries_.pop_back();
}

void GroupLog::drop_through(Index index) {
  if (index < first_) return;
  if (index >= last_index()) {
    reset(index + 1);
    return;
  }
  size_t n = index + 1 - first_;
  locations_.erase(locations_.begin(), locations_.begin() + static_cast<ptrdiff_t>(n));
  first_ = index + 1;
  while (runs_.size() >= 2 && runs_[1].first <= first_) runs_.pop_front();
  runs_.front().first = first_;
  while (!conf_entries_.empty() && conf_entries_.front().index < first_) conf_entries_.pop_front();
}

void GroupLog::reset(Index first_index) {
  locations_.clear();
  runs_.clear();
  conf_entries_.clear();
  first_ = first_index;
}

}  // namespace tessera::raftlog
