// Configuration tracking: the configuration in effect is the last one in the log (committed or
// not), else the snapshot's; truncating the log can therefore roll it back.
#include <utility>

#include "tessera/assert.h"
#include "raft/raft.h"

namespace tessera::raft {

void Raft::on_entries_appended(Index first_new) {
  bool changed = false;
  // New entries are not persisted yet, so they are all in memory.
  for (Index i = std::max(first_new, log_.first_index()); i <= log_.last_index(); ++i) {
    const Entry* e = log_.cached(i);
    TESSERA_ASSERT(e != nullptr);
    if (record_conf_entry(*e)) changed = true;
  }
  if (changed) refresh_config();
}

bool Raft::record_conf_entry(const Entry& e) {
  if (e.type != EntryType::kConfChange) return false;
  if (!conf_entries_.empty() && conf_entries_.back().first >= e.index) return false;
  std::optional<ConfState> conf = decode_conf_state(e.data);
  TESSERA_ASSERT(conf.has_value());  // only leaders write these, from encode_conf_state
  conf_entries_.emplace_back(e.index, std::move(*conf));
  pending_conf_index_ = std::max(pending_conf_index_, e.index);
  return true;
}

void Raft::on_log_truncated(Index from) {
  const size_t before = conf_entries_.size();
  std::erase_if(conf_entries_, [&](const auto& e) { return e.first >= from; });
  if (conf_entries_.size() == before) return;
  pending_conf_index_ = conf_entries_.empty() ? 0 : conf_entries_.back().first;
  refresh_config();
}

void Raft::refresh_config() {
  const ConfState& latest = conf_entries_.empty() ? base_conf_ : conf_entries_.back().second;
  if (latest != conf_) apply_config(latest);
}

void Raft::apply_config(const ConfState& conf) {
  conf_ = conf;
  if (transferee_ != kNoNode && !conf_.is_voter(transferee_)) transferee_ = kNoNode;
  if (role_ != Role::kLeader) return;
  std::erase_if(progress_, [&](const auto& p) { return !conf_.contains(p.first); });
  const Index next = log_.last_index() + 1;
  for (NodeId id : conf_.voters) {
    if (id == options_.id) continue;
    auto [it, added] = progress_.try_emplace(id, next, false);
    it->second.set_learner(false);
    if (added) it->second.set_recent_active(true);
  }
  for (NodeId id : conf_.learners) {
    if (id == options_.id) continue;
    auto [it, added] = progress_.try_emplace(id, next, true);
    it->second.set_learner(true);
    if (added) it->second.set_recent_active(true);
  }
}

ConfState Raft::conf_at(Index index) const {
  for (auto it = conf_entries_.rbegin(); it != conf_entries_.rend(); ++it) {
    if (it->first <= index) return it->second;
  }
  return base_conf_;
}

}  // namespace tessera::raft
