// Roles, time, requests and the Ready cycle. Message handling is in step.cc, replication in
// replication.cc, configuration in config.cc, ReadIndex in read_index.cc.
#include "raft/raft.h"

#include <algorithm>
#include <utility>

#include "tessera/assert.h"

namespace tessera::raft {

namespace {

// Messages only a leader sends, which promise nothing about its own disk: they may leave
// before the Ready that made them is persisted (thesis 10.2.1).
bool early_kind(MessageType type) {
  return type == MessageType::kAppend || type == MessageType::kHeartbeat ||
         type == MessageType::kSnapshot || type == MessageType::kTimeoutNow;
}

}  // namespace

Raft::Raft(const Options& options, Rng& rng, const DurableState& durable)
    : options_(options), rng_(rng), log_(durable.storage, options.entry_cache_bytes_max) {
  TESSERA_ASSERT(options_.id != kNoNode);
  TESSERA_ASSERT(options_.heartbeat_ticks >= 1);
  TESSERA_ASSERT(options_.heartbeat_ticks < options_.election_ticks);
  TESSERA_ASSERT(options_.entries_per_append_max >= 1);
  TESSERA_ASSERT(options_.inflight_appends_max >= 1);
  TESSERA_ASSERT(options_.committed_entries_per_ready_max >= 1);
  TESSERA_ASSERT(options_.committed_bytes_per_ready_max >= 1);
  snapshot_ = durable.snapshot;
  base_conf_ = snapshot_.conf;
  log_.restore_durable(durable);
  term_ = durable.hard_state.term;
  vote_ = durable.hard_state.vote;
  persisted_hard_state_ = hard_state();
  for (const Entry& e : durable.conf_entries) {
    TESSERA_REQUIRE(e.type == EntryType::kConfChange);
    TESSERA_REQUIRE(e.index > log_.snapshot_index() && e.index <= log_.last_index());
    TESSERA_REQUIRE(log_.term(e.index) == e.term);
    TESSERA_REQUIRE(record_conf_entry(e));
  }
  refresh_config();
  become_follower(term_, kNoNode);
}

uint64_t Raft::random_timeout() {
  return options_.election_ticks + rng_.uniform(options_.election_ticks);
}

void Raft::reset(Term term) {
  if (term != term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  leader_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  randomized_timeout_ = random_timeout();
  votes_.clear();
  transferee_ = kNoNode;
  progress_.clear();
}

void Raft::become_follower(Term term, NodeId leader) {
  fail_pending_reads();
  reset(term);
  role_ = Role::kFollower;
  leader_ = leader;
}

void Raft::become_pre_candidate() {
  TESSERA_ASSERT(role_ != Role::kLeader);
  // Pre-vote changes neither term nor vote: a partitioned node that keeps failing pre-votes
  // never inflates its term and never disrupts the group when it comes back.
  role_ = Role::kPreCandidate;
  leader_ = kNoNode;
  votes_.clear();
}

void Raft::become_candidate() {
  TESSERA_ASSERT(role_ != Role::kLeader);
  reset(term_ + 1);
  vote_ = options_.id;
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  TESSERA_ASSERT(role_ == Role::kCandidate);
  reset(term_);
  role_ = Role::kLeader;
  leader_ = options_.id;
  const Index next = log_.last_index() + 1;
  for (NodeId id : conf_.voters) {
    if (id != options_.id) progress_.emplace(id, Progress(next, false));
  }
  for (NodeId id : conf_.learners) {
    if (id != options_.id) progress_.emplace(id, Progress(next, true));
  }
  for (auto& [id, pr] : progress_) pr.set_recent_active(true);
  read_round_ = 0;
  read_acked_round_.clear();
  // The no-op commits everything of earlier terms (the Figure 8 rule forbids counting them
  // directly) and marks when reads and configuration changes become safe in this term.
  append_entry(EntryType::kNormal, std::string());
  term_start_index_ = log_.last_index();
  broadcast_append(true);
}

bool Raft::promotable() const { return conf_.is_voter(options_.id); }

void Raft::campaign(bool pre_vote, bool force) {
  Term vote_term = 0;
  if (pre_vote) {
    become_pre_candidate();
    vote_term = term_ + 1;
  } else {
    become_candidate();
    vote_term = term_;
  }
  votes_[options_.id] = true;
  if (conf_.voters.size() == 1) {  // a group of one wins at once
    if (pre_vote) {
      campaign(false, force);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId id : conf_.voters) {
    if (id == options_.id) continue;
    Message m;
    m.type = pre_vote ? MessageType::kPreVote : MessageType::kVote;
    m.to = id;
    m.term = vote_term;
    m.log_index = log_.last_index();
    m.log_term = log_.last_term();
    m.force = force;
    send(std::move(m));
  }
}

void Raft::send(Message message) {
  message.from = options_.id;
  if (message.term == 0) message.term = term_;
  outbox_.push_back(std::move(message));
}

void Raft::tick() {
  TESSERA_ASSERT(!ready_outstanding_);
  ++ticks_;
  apply_blocked_ = false;  // a failed read of committed entries is retried once per tick
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_;
  if (promotable() && election_elapsed_ >= randomized_timeout_) {
    election_elapsed_ = 0;
    campaign(options_.pre_vote, false);
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= options_.election_ticks) {
    election_elapsed_ = 0;
    if (options_.check_quorum) {
      size_t active = 0;
      for (NodeId id : conf_.voters) {
        if (id == options_.id) {
          ++active;
          continue;
        }
        auto it = progress_.find(id);
        if (it != progress_.end() && it->second.recent_active()) ++active;
      }
      for (auto& [id, pr] : progress_) pr.set_recent_active(false);
      if (active < conf_.voters.size() / 2 + 1) {
        become_follower(term_, kNoNode);
        return;
      }
    }
    transferee_ = kNoNode;  // a transfer that did not finish in an election timeout is over
  }
  if (heartbeat_elapsed_ >= options_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat(read_round_);
  }
}

void Raft::append_entry(EntryType type, std::string data) {
  const Index index = log_.last_index() + 1;
  log_.append_one(Entry{term_, index, type, std::move(data)});
  if (type == EntryType::kConfChange) on_entries_appended(index);
}

Proposal Raft::propose(std::string data) {
  TESSERA_ASSERT(!ready_outstanding_);
  if (role_ != Role::kLeader) return {Outcome::kNotLeader, 0, 0};
  if (transferee_ != kNoNode) return {Outcome::kTransferring, 0, 0};
  if (log_.last_index() - log_.committed() >= options_.uncommitted_entries_max) {
    return {Outcome::kBusy, 0, 0};
  }
  append_entry(EntryType::kNormal, std::move(data));
  // Appends go out at the next ready(): every proposal made in between rides in one message.
  append_pending_ = true;
  return {Outcome::kOk, log_.last_index(), term_};
}

Proposal Raft::propose_conf_change(const ConfChange& change) {
  TESSERA_ASSERT(!ready_outstanding_);
  if (role_ != Role::kLeader) return {Outcome::kNotLeader, 0, 0};
  if (transferee_ != kNoNode) return {Outcome::kTransferring, 0, 0};
  // One change at a time, and never before this term committed its no-op: otherwise a
  // change from a deposed leader's uncommitted tail could overlap with ours.
  if (pending_conf_index_ > log_.committed() || log_.committed() < term_start_index_) {
    return {Outcome::kConfPending, 0, 0};
  }
  std::optional<ConfState> next = apply_conf_change(conf_, change);
  if (!next) return {Outcome::kInvalid, 0, 0};
  append_entry(EntryType::kConfChange, encode_conf_state(*next));
  append_pending_ = true;
  return {Outcome::kOk, log_.last_index(), term_};
}

Outcome Raft::transfer_leadership(NodeId target) {
  TESSERA_ASSERT(!ready_outstanding_);
  if (role_ != Role::kLeader) return Outcome::kNotLeader;
  if (target == options_.id || !conf_.is_voter(target)) return Outcome::kInvalid;
  transferee_ = target;
  election_elapsed_ = 0;  // the transfer gets one election timeout
  const Progress& pr = progress_.at(target);
  if (pr.match() == log_.last_index()) {
    Message m;
    m.type = MessageType::kTimeoutNow;
    m.to = target;
    send(std::move(m));
  } else {
    send_append(target, true);
  }
  return Outcome::kOk;
}

void Raft::compact(Index index) {
  TESSERA_ASSERT(!ready_outstanding_);
  TESSERA_REQUIRE(index <= log_.applied());
  if (index <= log_.snapshot_index()) return;
  ConfState conf = conf_at(index);
  snapshot_ = SnapshotMeta{index, *log_.term(index), conf};
  base_conf_ = std::move(conf);
  std::erase_if(conf_entries_, [&](const auto& e) { return e.first <= index; });
  log_.compact(index);
}

bool Raft::has_ready() const {
  return append_pending_ || read_round_pending_ || pending_snapshot_.has_value() ||
         log_.unstable_from() <= log_.last_index() || hard_state() != persisted_hard_state_ ||
         !outbox_.empty() || (!apply_blocked_ && log_.applied() < log_.committed()) ||
         !read_states_.empty() || !reads_failed_.empty();
}

Ready Raft::ready() {
  TESSERA_ASSERT(!ready_outstanding_);
  if (append_pending_) {
    append_pending_ = false;
    if (role_ == Role::kLeader) broadcast_append(false);
  }
  if (read_round_pending_) start_read_round();
  Ready rd;
  rd.snapshot = pending_snapshot_;
  rd.entries = log_.unstable_entries();
  log_.mark_handed_out();
  if (hard_state() != persisted_hard_state_) rd.hard_state = hard_state();
  // A leader whose term is durable may have its replication traffic sent before this Ready
  // is persisted: it counts itself toward commit only after advance(). Until its term is on
  // disk (a group of one elects itself within one Ready), nothing goes early: a crash could
  // otherwise let it lead the same term twice with different entries.
  const bool early = role_ == Role::kLeader && persisted_hard_state_.term == term_;
  for (Message& m : outbox_) {
    (early && early_kind(m.type) ? rd.early_messages : rd.messages).push_back(std::move(m));
  }
  outbox_.clear();
  // Committed entries at or below the last entry are durable once step 1 is done. A failed
  // storage read hands out none this time; the next tick retries.
  if (!pending_snapshot_ && !apply_blocked_ && log_.applied() < log_.committed()) {
    Result<std::vector<Entry>> committed = log_.slice(log_.applied() + 1, log_.committed() + 1,
                                                      options_.committed_entries_per_ready_max,
                                                      options_.committed_bytes_per_ready_max);
    if (committed.is_ok()) {
      rd.committed_entries = std::move(committed).value();
    } else {
      apply_blocked_ = true;
    }
  }
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  rd.reads_failed = std::move(reads_failed_);
  reads_failed_.clear();
  ready_outstanding_ = true;
  return rd;
}

void Raft::advance(const Ready& rd) {
  TESSERA_ASSERT(ready_outstanding_);
  ready_outstanding_ = false;
  if (rd.snapshot) {
    TESSERA_ASSERT(pending_snapshot_.has_value());
    TESSERA_ASSERT(rd.snapshot->index == pending_snapshot_->index);
    log_.persisted_to(rd.snapshot->index);
    log_.applied_to(rd.snapshot->index);
    pending_snapshot_.reset();
  }
  if (!rd.entries.empty()) log_.persisted_to(rd.entries.back().index);
  if (rd.hard_state) persisted_hard_state_ = *rd.hard_state;
  if (!rd.committed_entries.empty()) log_.applied_to(rd.committed_entries.back().index);
  if (role_ == Role::kLeader) {
    // The leader's own entries count toward the quorum only once they are durable.
    if (maybe_commit()) broadcast_append(true);
    step_down_if_removed();
  }
}

}  // namespace tessera::raft
