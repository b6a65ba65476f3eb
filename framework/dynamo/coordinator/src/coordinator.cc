#include "tessera/quorum/coordinator.h"

#include <algorithm>
#include <utility>

#include "tessera/assert.h"

namespace tessera::quorum {

Coordinator::Coordinator(Request request, Reconcile reconcile)
    : request_(std::move(request)), reconcile_(std::move(reconcile)) {
  TESSERA_REQUIRE(check_request(request_).is_ok(), "an invalid quorum request");
  TESSERA_REQUIRE(request_.operation != Operation::kRead || reconcile_, "a read needs reconcile");
  choose_targets();
  for (const Target& target : targets_) {
    if (request_.operation == Operation::kWrite) {
      emit(SendWrite{target.node, target.hint_for});
    } else {
      emit(SendRead{target.node});
    }
  }
  // Too few healthy nodes: fail now rather than make the client wait for the deadline.
  answer_if_decided();
}

void Coordinator::choose_targets() {
  const size_t owners = request_.owners;
  std::vector<size_t> down_owners;
  down_owners.reserve(owners);
  for (size_t i = 0; i < owners; ++i) {
    if (request_.up[i]) {
      targets_.push_back(Target{request_.replicas[i], {}});
    } else {
      down_owners.push_back(i);
    }
  }
  // Each down owner, in preference order, gets the next healthy fallback, so that the first
  // owner's hint lands on the node the ring would try first.
  size_t next_down = 0;
  for (size_t i = owners; i < request_.replicas.size() && next_down < down_owners.size(); ++i) {
    if (!request_.up[i]) continue;
    targets_.push_back(Target{request_.replicas[i], request_.replicas[down_owners[next_down]]});
    ++next_down;
  }
  TESSERA_ASSERT(targets_.size() <= owners);
  const std::vector<NodeId>& next = request_.next_owners;
  for (Target& target : targets_) {
    target.counts_next = std::find(next.begin(), next.end(), target.node) != next.end();
  }
  for (size_t i = 0; i < next.size(); ++i) {
    if (!request_.next_up[i] || find_target(next[i]) != targets_.size()) continue;
    targets_.push_back(Target{next[i], {}, false, true});
  }
  states_.resize(targets_.size());
}

size_t Coordinator::required_next() const {
  return std::min(request_.required, request_.next_owners.size());
}

size_t Coordinator::find_target(const NodeId& node) const {
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i].node == node) return i;
  }
  return targets_.size();
}

size_t Coordinator::count(ReplyState state, bool next) const {
  size_t n = 0;
  for (size_t i = 0; i < targets_.size(); ++i) {
    const bool counts = next ? targets_[i].counts_next : targets_[i].counts_now;
    n += counts && states_[i].reply == state ? 1 : 0;
  }
  return n;
}

void Coordinator::step(const WriteReply& reply) {
  if (request_.operation != Operation::kWrite || expired_) return;
  const size_t i = find_target(reply.from);
  if (i == targets_.size() || states_[i].reply != ReplyState::kPending) return;
  states_[i].reply = reply.ok ? ReplyState::kOk : ReplyState::kFailed;
  answer_if_decided();
}

void Coordinator::step(const ReadReply& reply) {
  if (request_.operation != Operation::kRead || expired_) return;
  const size_t i = find_target(reply.from);
  if (i == targets_.size() || states_[i].reply != ReplyState::kPending) return;
  if (!reply.ok || !fold(reply.versions)) {
    states_[i].reply = ReplyState::kFailed;
    answer_if_decided();
    return;
  }
  states_[i].reply = ReplyState::kOk;
  states_[i].held.reserve(reply.versions.size());
  for (const VersionedValue& v : reply.versions) states_[i].held.push_back(v.version);
  if (answered_) {
    // A late reply: it may be stale itself, or bring a version the earlier repliers lack.
    emit_repairs();
  } else {
    answer_if_decided();
  }
}

void Coordinator::tick() {
  if (expired_) return;
  ++ticks_;
  if (ticks_ < request_.deadline_ticks) return;
  expired_ = true;
  if (!answered_) answer(QuorumUnavailable{count(ReplyState::kOk), request_.required, true});
}

bool Coordinator::fold(const std::vector<VersionedValue>& versions) {
  if (versions.size() > kVersionsMax) return false;
  std::vector<VersionedValue> all = survivors_;
  all.insert(all.end(), versions.begin(), versions.end());
  Result<std::vector<VersionedValue>> merged = reconcile_(std::move(all));
  if (!merged.is_ok() || merged->size() > kVersionsMax) return false;
  survivors_ = std::move(merged).value();
  return true;
}

void Coordinator::answer_if_decided() {
  if (answered_) return;
  const size_t ok = count(ReplyState::kOk);
  const size_t pending = count(ReplyState::kPending);
  // While nodes join, a write needs its quorum among the next owners too.
  const size_t ok_next = count(ReplyState::kOk, true);
  const size_t pending_next = count(ReplyState::kPending, true);
  if (ok_next + pending_next < required_next()) {
    answer(QuorumUnavailable{ok_next, required_next(), false});
    return;
  }
  if (ok >= request_.required && ok_next >= required_next()) {
    if (request_.operation == Operation::kWrite) {
      WriteAcked acked{ok, {}, {}};
      for (size_t i = 0; i < targets_.size(); ++i) {
        if (states_[i].reply != ReplyState::kOk || targets_[i].hint_for.empty()) continue;
        acked.hinted.push_back(targets_[i].hint_for);
        acked.hint_holders.push_back(targets_[i].node);
      }
      answer(std::move(acked));
    } else {
      ReadAnswer read{ok, {}, {}};
      for (const VersionedValue& v : survivors_) {
        read.context.push_back(v.version);
        if (!v.tombstone) read.values.push_back(v);
      }
      answer(std::move(read));
      emit_repairs();
    }
  } else if (ok + pending < request_.required) {
    answer(QuorumUnavailable{ok, request_.required, false});
  }
}

void Coordinator::answer(Answer answer) {
  TESSERA_ASSERT(!answered_);
  answered_ = true;
  emit(std::move(answer));
}

// Sends each replica that replied the survivors it neither reported nor was repaired with.
// Only survivors: a replica that holds every survivor drops what they supersede on its own.
void Coordinator::emit_repairs() {
  TESSERA_ASSERT(answered_);
  for (size_t i = 0; i < targets_.size(); ++i) {
    TargetState& state = states_[i];
    if (state.reply != ReplyState::kOk) continue;
    ReadRepair repair{targets_[i].node, targets_[i].hint_for, {}};
    for (const VersionedValue& v : survivors_) {
      if (std::find(state.held.begin(), state.held.end(), v.version) != state.held.end()) continue;
      repair.versions.push_back(v);
      state.held.push_back(v.version);
    }
    if (!repair.versions.empty()) emit(std::move(repair));
  }
}

void Coordinator::emit(Effect effect) {
  ++effects_emitted_;
  TESSERA_ASSERT(effects_emitted_ <= kEffectsMax);
  effects_.push_back(std::move(effect));
}

std::vector<Effect> Coordinator::drain() { return std::exchange(effects_, {}); }

bool Coordinator::done() const {
  return answered_ && (expired_ || count(ReplyState::kPending) == 0);
}

}  // namespace tessera::quorum
