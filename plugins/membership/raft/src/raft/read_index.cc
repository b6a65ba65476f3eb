// ReadIndex: a leader serves a read at its commit index once a quorum has confirmed, after the
// read arrived, that it is still the leader (a heartbeat round echoed by a majority). Reads that
// arrive between two ready() calls wait for the same round, which ready() starts: 100 reads in
// one batch cost one heartbeat per peer, not 100.
#include <algorithm>
#include <utility>

#include "raft/raft.h"

namespace tessera::raft {

Outcome Raft::read_index(uint64_t request_id) {
  if (role_ != Role::kLeader) return Outcome::kNotLeader;
  if (reads_.size() + reads_before_commit_.size() >= options_.pending_reads_max) {
    return Outcome::kBusy;
  }
  // Until the no-op of this term commits, our commit index may be behind an earlier leader's.
  if (log_.committed() < term_start_index_) {
    reads_before_commit_.push_back(request_id);
    return Outcome::kOk;
  }
  queue_read(request_id);
  return Outcome::kOk;
}

void Raft::queue_read(uint64_t request_id) {
  if (conf_.voters.size() == 1 && conf_.is_voter(options_.id)) {
    read_states_.push_back(ReadState{request_id, log_.committed()});
    return;
  }
  // The round this read waits for is sent after it arrived (by the next ready()), which is
  // what makes the confirmation mean "still leader after the read arrived".
  reads_.push_back(PendingRead{request_id, log_.committed(), read_round_ + 1});
  read_round_pending_ = true;
}

void Raft::start_read_round() {
  read_round_pending_ = false;
  if (role_ != Role::kLeader || reads_.empty()) return;
  ++read_round_;
  ++read_rounds_;
  broadcast_heartbeat(read_round_);
}

void Raft::release_reads() {
  if (reads_.empty()) return;
  scratch_.clear();
  for (NodeId id : conf_.voters) {
    if (id == options_.id) {
      scratch_.push_back(read_round_);
    } else {
      auto it = read_acked_round_.find(id);
      scratch_.push_back(it == read_acked_round_.end() ? 0 : it->second);
    }
  }
  if (scratch_.empty()) return;
  std::sort(scratch_.begin(), scratch_.end(), std::greater<uint64_t>());
  const uint64_t confirmed = scratch_[scratch_.size() / 2];
  while (!reads_.empty() && reads_.front().round <= confirmed) {
    read_states_.push_back(ReadState{reads_.front().request_id, reads_.front().index});
    reads_.pop_front();
  }
}

void Raft::fail_pending_reads() {
  for (const PendingRead& read : reads_) reads_failed_.push_back(read.request_id);
  for (uint64_t id : reads_before_commit_) reads_failed_.push_back(id);
  reads_.clear();
  reads_before_commit_.clear();
  read_round_pending_ = false;
}

}  // namespace tessera::raft
