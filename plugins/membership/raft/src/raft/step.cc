// Message dispatch: the term rules every message passes first, then votes, then per role.
#include <utility>

#include "tessera/assert.h"
#include "raft/raft.h"

namespace tessera::raft {

namespace {

bool from_leader(MessageType type) {
  return type == MessageType::kAppend || type == MessageType::kHeartbeat ||
         type == MessageType::kSnapshot;
}

}  // namespace

void Raft::step(Message m) {
  TESSERA_ASSERT(!ready_outstanding_);
  if (m.from == options_.id || m.from == kNoNode) return;
  if (!check_term(m)) return;
  switch (m.type) {
    case MessageType::kPreVote:
    case MessageType::kVote: handle_vote_request(m); return;
    default: break;
  }
  switch (role_) {
    case Role::kLeader:
      step_leader(m);
      step_down_if_removed();
      return;
    case Role::kPreCandidate:
    case Role::kCandidate:
      if (from_leader(m.type)) {
        become_follower(term_, m.from);  // someone won this term
        step_follower(m);
      } else if (m.type == MessageType::kPreVoteResp || m.type == MessageType::kVoteResp) {
        handle_vote_response(m);
      }
      return;
    case Role::kFollower: step_follower(m); return;
  }
}

// Returns false if the message is to be dropped.
bool Raft::check_term(const Message& m) {
  if (m.term > term_) {
    if (m.type == MessageType::kPreVote || m.type == MessageType::kVote) {
      // Leader stickiness: while we hear from a live leader, nobody can depose it, unless the
      // leader itself asked for it (transfer).
      const bool in_lease = options_.check_quorum && leader_ != kNoNode &&
                            election_elapsed_ < options_.election_ticks;
      if (in_lease && !m.force) return false;
    }
    if (m.type == MessageType::kPreVote) return true;  // a pre-vote changes no term
    if (m.type == MessageType::kPreVoteResp && !m.reject) return true;  // our own future term
    become_follower(m.term, from_leader(m.type) ? m.from : kNoNode);
    return true;
  }
  if (m.term < term_) {
    if ((options_.check_quorum || options_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A stale leader cut off by a partition learns our term and steps down; without this a
      // pre-vote group could ignore it forever while it ignores our pre-votes.
      Message r;
      r.type = MessageType::kAppendResp;
      r.to = m.from;
      r.reject = true;
      r.log_index = m.log_index;
      send(std::move(r));
    } else if (m.type == MessageType::kPreVote) {
      Message r;
      r.type = MessageType::kPreVoteResp;
      r.to = m.from;
      r.reject = true;
      send(std::move(r));
    }
    return false;
  }
  return true;
}

void Raft::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  const bool can_vote =
      vote_ == m.from || (vote_ == kNoNode && leader_ == kNoNode) || (pre && m.term > term_);
  Message r;
  r.type = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  r.to = m.from;
  if (can_vote && log_.is_up_to_date(m.log_index, m.log_term)) {
    r.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;  // persisted (Ready.hard_state) before this response is sent
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  send(std::move(r));
}

void Raft::handle_vote_response(const Message& m) {
  const bool pre = role_ == Role::kPreCandidate;
  if (pre != (m.type == MessageType::kPreVoteResp)) return;
  if (!conf_.is_voter(m.from)) return;
  votes_[m.from] = !m.reject;
  size_t granted = 0;
  size_t rejected = 0;
  for (NodeId id : conf_.voters) {
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    (it->second ? granted : rejected) += 1;
  }
  const size_t quorum = conf_.voters.size() / 2 + 1;
  if (granted >= quorum) {
    if (pre) {
      campaign(false, false);
    } else {
      become_leader();
    }
  } else if (rejected > conf_.voters.size() - quorum) {
    become_follower(term_, kNoNode);
  }
}

void Raft::step_leader(Message& m) {
  switch (m.type) {
    case MessageType::kAppendResp: handle_append_response(m); return;
    case MessageType::kHeartbeatResp: handle_heartbeat_response(m); return;
    default: return;  // votes for a term we already won, or a duplicate: nothing to do
  }
}

void Raft::step_follower(Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_append(m);
      return;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_heartbeat(m);
      return;
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_snapshot(m);
      return;
    case MessageType::kTimeoutNow:
      if (promotable()) campaign(false, true);
      return;
    default: return;
  }
}

void Raft::step_down_if_removed() {
  // A leader that removed itself keeps leading until that configuration commits, then hands
  // the group to the remaining voters.
  if (role_ == Role::kLeader && !conf_.is_voter(options_.id) &&
      log_.committed() >= pending_conf_index_) {
    become_follower(term_, kNoNode);
  }
}

}  // namespace tessera::raft
