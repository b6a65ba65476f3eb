// Progress: what a leader knows about one peer's log, and how it paces replication to it.
//
// Purpose: the flow control of replication. Probe: one append at a time until the match is
// found (after a rejection, a restart, a new term). Replicate: appends are sent optimistically
// (pipelining) with up to inflight_max in flight. Snapshot: waiting for a snapshot install.
// Thread-safety: none; owned by the leader's Raft. Ownership: plain value.
#pragma once

#include <cstddef>
#include <deque>

#include "raft/types.h"

namespace tessera::raft {

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };

class Progress {
 public:
  Progress() = default;
  Progress(Index next, bool learner) : next_(next), learner_(learner) {}

  Index match() const { return match_; }
  Index next() const { return next_; }
  ProgressState state() const { return state_; }
  bool learner() const { return learner_; }
  void set_learner(bool learner) { learner_ = learner; }
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool active) { recent_active_ = active; }
  Index pending_snapshot() const { return pending_snapshot_; }
  uint64_t snapshot_sent_tick() const { return snapshot_sent_tick_; }

  // True when no append may be sent now.
  bool paused(size_t inflight_max) const {
    switch (state_) {
      case ProgressState::kProbe: return probe_sent_;
      case ProgressState::kReplicate: return inflight_.size() >= inflight_max;
      case ProgressState::kSnapshot: return true;
    }
    return true;
  }

  void become_probe() {
    // After a snapshot, resume right after it; otherwise right after the known match.
    const Index resume =
        state_ == ProgressState::kSnapshot ? std::max(match_, pending_snapshot_) + 1 : match_ + 1;
    reset(ProgressState::kProbe);
    next_ = resume;
  }
  void become_replicate() {
    reset(ProgressState::kReplicate);
    next_ = match_ + 1;
  }
  // The snapshot was probably lost: probe again from the known match.
  void abort_snapshot() {
    reset(ProgressState::kProbe);
    next_ = match_ + 1;
  }
  void become_snapshot(Index snapshot_index, uint64_t now_tick) {
    reset(ProgressState::kSnapshot);
    pending_snapshot_ = snapshot_index;
    snapshot_sent_tick_ = now_tick;
  }

  // An append covering up to `last` was sent.
  void sent_append(Index last, bool has_entries) {
    if (state_ == ProgressState::kReplicate) {
      if (has_entries) {
        next_ = last + 1;
        inflight_.push_back(last);
      }
    } else if (state_ == ProgressState::kProbe) {
      probe_sent_ = true;
    }
  }

  // The peer has everything up to `index`. Returns true if that is news.
  bool maybe_update(Index index) {
    bool updated = false;
    if (index > match_) {
      match_ = index;
      updated = true;
      probe_sent_ = false;
    }
    next_ = std::max(next_, index + 1);
    while (!inflight_.empty() && inflight_.front() <= index) inflight_.pop_front();
    return updated;
  }

  // A rejection of the append after `rejected`; `hint` is where to probe next. Returns false
  // if the rejection is stale (it answers an append we no longer care about).
  bool maybe_decrease_to(Index rejected, Index hint) {
    if (state_ == ProgressState::kReplicate) {
      if (rejected <= match_) return false;
      become_probe();
      next_ = std::max(std::min(rejected, hint + 1), match_ + 1);
      return true;
    }
    if (next_ - 1 != rejected) return false;
    next_ = std::max(std::min(rejected, hint + 1), match_ + 1);
    probe_sent_ = false;
    return true;
  }

  // A heartbeat came back: the peer is alive, so a lost probe or append may be retried.
  void on_heartbeat_response(size_t inflight_max) {
    probe_sent_ = false;
    if (state_ == ProgressState::kReplicate && inflight_.size() >= inflight_max) {
      inflight_.pop_front();
    }
  }

 private:
  void reset(ProgressState state) {
    state_ = state;
    probe_sent_ = false;
    pending_snapshot_ = 0;
    inflight_.clear();
  }

  Index match_ = 0;
  Index next_ = 1;
  ProgressState state_ = ProgressState::kProbe;
  bool probe_sent_ = false;
  bool learner_ = false;
  bool recent_active_ = false;
  Index pending_snapshot_ = 0;
  uint64_t snapshot_sent_tick_ = 0;
  std::deque<Index> inflight_;  // last index of each append in flight, ascending
};

}  // namespace tessera::raft
