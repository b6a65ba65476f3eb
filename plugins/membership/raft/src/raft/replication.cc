// Log replication: the follower's side of appends, heartbeats and snapshots, and the
// leader's flow control, commit rule and catch-up.
#include <algorithm>
#include <utility>

#include "tessera/assert.h"
#include "raft/raft.h"

namespace tessera::raft {

void Raft::handle_append(Message& m) {
  Message r;
  r.type = MessageType::kAppendResp;
  r.to = m.from;
  if (m.log_index < log_.committed()) {
    r.log_index = log_.committed();  // old news: everything up to our commit matches
    send(std::move(r));
    return;
  }
  const Index old_last = log_.last_index();
  Index written_from = 0;
  std::optional<Index> last_new =
      log_.maybe_append(m.log_index, m.log_term, m.entries, &written_from);
  if (!last_new) {
    // Fast back-off: tell the leader the last index that could match, judging by terms, so
    // that it skips a whole conflicting term per round trip instead of one entry.
    auto [hint_index, hint_term] =
        log_.find_conflict_by_term(std::min(m.log_index, log_.last_index()), m.log_term);
    r.reject = true;
    r.log_index = m.log_index;
    r.reject_hint = hint_index;
    r.log_term = hint_term;
    send(std::move(r));
    return;
  }
  if (written_from != 0) {
    if (written_from <= old_last) on_log_truncated(written_from);
    on_entries_appended(written_from);
  }
  log_.commit_to(std::min(m.commit, *last_new));
  r.log_index = *last_new;  // sent after these entries are persisted (Ready order)
  send(std::move(r));
}

void Raft::handle_heartbeat(const Message& m) {
  // The leader bounds m.commit by our match, so our log holds those entries.
  log_.commit_to(std::min(m.commit, log_.last_index()));
  Message r;
  r.type = MessageType::kHeartbeatResp;
  r.to = m.from;
  r.context = m.context;
  send(std::move(r));
}

void Raft::handle_snapshot(const Message& m) {
  const SnapshotMeta& meta = m.snapshot;
  Message r;
  r.type = MessageType::kAppendResp;
  r.to = m.from;
  if (meta.index <= log_.committed()) {
    r.log_index = log_.committed();
    send(std::move(r));
    return;
  }
  if (log_.match_term(meta.index, meta.term)) {
    log_.commit_to(meta.index);  // we already have it all; no need to install
    r.log_index = meta.index;
    send(std::move(r));
    return;
  }
  // The host staged the image that goes with this message; Ready::snapshot tells it to
  // restore that image.
  log_.restore_snapshot(meta.index, meta.term);
  snapshot_ = meta;
  pending_snapshot_ = meta;
  base_conf_ = meta.conf;
  conf_entries_.clear();
  pending_conf_index_ = 0;
  refresh_config();
  r.log_index = meta.index;
  send(std::move(r));
}

void Raft::handle_append_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.set_recent_active(true);
  if (m.reject) {
    const Index probe = m.reject_hint < log_.snapshot_index()
                            ? m.reject_hint
                            : log_.find_conflict_by_term(m.reject_hint, m.log_term).first;
    if (pr.maybe_decrease_to(m.log_index, probe)) send_append(m.from, true);
    return;
  }
  const bool was_paused = pr.paused(options_.inflight_appends_max);
  if (!pr.maybe_update(m.log_index)) return;
  if (pr.state() == ProgressState::kProbe) {
    pr.become_replicate();
  } else if (pr.state() == ProgressState::kSnapshot && pr.match() >= pr.pending_snapshot()) {
    pr.become_probe();
    pr.become_replicate();
  }
  if (maybe_commit()) {
    broadcast_append(true);
  } else if (was_paused) {
    send_append(m.from, false);
  }
  // Pipelining: fill the window while there is more to send. Bounded by the window size.
  for (size_t k = 0; k < options_.inflight_appends_max; ++k) {
    if (pr.next() > log_.last_index() || pr.paused(options_.inflight_appends_max)) break;
    send_append(m.from, false);
  }
  if (m.from == transferee_ && pr.match() == log_.last_index()) {
    Message t;
    t.type = MessageType::kTimeoutNow;
    t.to = m.from;
    send(std::move(t));
  }
}

void Raft::handle_heartbeat_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.set_recent_active(true);
  pr.on_heartbeat_response(options_.inflight_appends_max);
  if (pr.state() == ProgressState::kSnapshot &&
      ticks_ - pr.snapshot_sent_tick() >= options_.election_ticks) {
    pr.abort_snapshot();
  }
  if (pr.match() < log_.last_index()) send_append(m.from, true);
  if (m.context != 0) {
    uint64_t& acked = read_acked_round_[m.from];
    acked = std::max(acked, m.context);
    release_reads();
  }
}

void Raft::send_append(NodeId to, bool send_if_empty) {
  Progress& pr = progress_.at(to);
  if (pr.paused(options_.inflight_appends_max)) return;
  const Index prev = pr.next() - 1;
  const std::optional<Term> prev_term = log_.term(prev);
  if (!prev_term) {
    // The entries this peer needs are compacted away: send a snapshot instead.
    Message m;
    m.type = MessageType::kSnapshot;
    m.to = to;
    m.snapshot = snapshot_to_send();
    pr.become_snapshot(m.snapshot.index, ticks_);
    send(std::move(m));
    return;
  }
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.log_index = prev;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  if (pr.next() <= log_.last_index()) {
    Result<std::vector<Entry>> entries =
        log_.slice(pr.next(), log_.last_index() + 1, options_.entries_per_append_max,
                   options_.append_bytes_max);
    // A failed storage read (counted by the log) skips this send; the peer's next append
    // response or heartbeat response tries again.
    if (!entries.is_ok()) return;
    m.entries = std::move(entries).value();
  }
  if (m.entries.empty() && !send_if_empty) return;
  const Index last_sent = m.entries.empty() ? prev : m.entries.back().index;
  pr.sent_append(last_sent, !m.entries.empty());
  send(std::move(m));
}

SnapshotMeta Raft::snapshot_to_send() const {
  // The host makes the image from its state machine, which has applied exactly up to
  // applied() when it sends this Ready's messages (it applies them in order, after sending):
  // the newest point it can serve, so the follower needs as little of the log as possible.
  const Index index = log_.applied();
  TESSERA_ASSERT(index >= log_.snapshot_index());
  return SnapshotMeta{index, *log_.term(index), conf_at(index)};
}

void Raft::broadcast_append(bool send_if_empty) {
  for (auto& [id, pr] : progress_) send_append(id, send_if_empty);
}

void Raft::broadcast_heartbeat(uint64_t context) {
  for (const auto& [id, pr] : progress_) {
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = id;
    m.commit = std::min(pr.match(), log_.committed());
    m.context = context;
    send(std::move(m));
  }
}

Index Raft::quorum_index() {
  scratch_.clear();
  for (NodeId id : conf_.voters) {
    if (id == options_.id) {
      scratch_.push_back(log_.persisted());
    } else {
      auto it = progress_.find(id);
      scratch_.push_back(it == progress_.end() ? 0 : it->second.match());
    }
  }
  if (scratch_.empty()) return 0;
  std::sort(scratch_.begin(), scratch_.end(), std::greater<Index>());
  return scratch_[scratch_.size() / 2];
}

bool Raft::maybe_commit() {
  const Index index = quorum_index();
  // Figure 8: an entry of an earlier term is never committed by counting replicas; it is
  // committed only under an entry of the current term.
  if (index <= log_.committed() || log_.term(index) != term_) return false;
  log_.commit_to(index);
  if (log_.committed() >= term_start_index_ && !reads_before_commit_.empty()) {
    std::deque<uint64_t> waiting = std::move(reads_before_commit_);
    reads_before_commit_.clear();
    for (uint64_t id : waiting) queue_read(id);
  }
  return true;
}

}  // namespace tessera::raft
