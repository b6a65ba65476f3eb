// The driver's side of one group, and every call into raft::Raft.
#include "driver/group.h"

#include <algorithm>
#include <utility>

#include "tessera/assert.h"

namespace tessera::raft::driver {

namespace {}  // namespace

uint64_t Group::CoreRng::uniform(uint64_t n) {
  TESSERA_ASSERT(n > 0);
  // splitmix64: small, fast, and a different stream per seed.
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<uint64_t>((static_cast<__uint128_t>(z) * n) >> 64);
}

Group::Group(GroupSpec spec, const tessera::NodeId& self_node, DriverStats* stats)
    : id_(spec.id),
      self_(spec.self),
      self_node_(self_node),
      stats_(stats),
      nodes_(std::move(spec.replicas)),
      rng_(spec.rng_seed) {
  TESSERA_REQUIRE(self_ != kNoNode);
  nodes_.erase(self_);
  Options options = spec.raft;
  options.id = self_;
  core_ = std::make_unique<Raft>(options, rng_, spec.durable);
  handed_out_ = core_->log().applied();
  applied_ = handed_out_;
  durable_ = handed_out_;
}

const tessera::NodeId* Group::node_of(ReplicaId replica) const {
  auto it = nodes_.find(replica);
  return it == nodes_.end() ? nullptr : &it->second;
}

void Group::set_node(ReplicaId replica, tessera::NodeId node) {
  if (replica == self_) return;
  nodes_[replica] = std::move(node);
}

tessera::NodeId Group::leader_node() const {
  const ReplicaId leader = core_->leader();
  if (leader == kNoNode) return {};
  if (leader == self_) return self_node_;
  const tessera::NodeId* node = node_of(leader);
  return node == nullptr ? tessera::NodeId() : *node;
}

void Group::step(Message message) {
  TESSERA_ASSERT(!ready_outstanding_);
  core_->step(std::move(message));
}

void Group::tick() {
  TESSERA_ASSERT(!ready_outstanding_);
  core_->tick();
}

void Group::reply_not_leader(Token token, bool read, Events& events) const {
  Reply reply{id_, token, Answer::kNotLeader, 0, 0, leader_node()};
  if (read) {
    events.read_done(reply);
  } else {
    events.proposal_done(reply);
  }
}

void Group::propose(Token token, std::string data, const DriverOptions& options, Events& events) {
  TESSERA_ASSERT(!ready_outstanding_);
  if (proposals_.size() + proposals_committed_.size() >= options.pending_proposals_per_group_max) {
    events.proposal_done(Reply{id_, token, Answer::kBusy, 0, 0, {}});
    return;
  }
  const Proposal p = core_->propose(std::move(data));
  switch (p.outcome) {
    case Outcome::kOk: {
      // An older proposal at the same index was truncated away when this replica lost and
      // regained leadership: it can no longer commit as proposed.
      auto [it, added] = proposals_.try_emplace(p.index, PendingProposal{token, p.term});
      if (!added) {
        events.proposal_done(Reply{id_, it->second.token, Answer::kLost, p.index, 0, {}});
        it->second = PendingProposal{token, p.term};
      }
      return;
    }
    case Outcome::kNotLeader:
      reply_not_leader(token, false, events);
      return;
    case Outcome::kBusy:
      events.proposal_done(Reply{id_, token, Answer::kBusy, 0, 0, {}});
      return;
    default:
      events.proposal_done(Reply{id_, token, Answer::kRejected, 0, 0, {}});
      return;
  }
}

void Group::read_index(Token token, const DriverOptions& options, Events& events) {
  TESSERA_ASSERT(!ready_outstanding_);
  if (reads_.size() + reads_confirmed_.size() >= options.pending_reads_per_group_max) {
    events.read_done(Reply{id_, token, Answer::kBusy, 0, 0, {}});
    return;
  }
  const uint64_t request_id = next_read_id_++;
  switch (core_->read_index(request_id)) {
    case Outcome::kOk:
      reads_.emplace(request_id, token);
      return;
    case Outcome::kNotLeader:
      reply_not_leader(token, true, events);
      return;
    case Outcome::kBusy:
      events.read_done(Reply{id_, token, Answer::kBusy, 0, 0, {}});
      return;
    default:
      events.read_done(Reply{id_, token, Answer::kRejected, 0, 0, {}});
      return;
  }
}

Outcome Group::transfer_leadership(ReplicaId target) {
  TESSERA_ASSERT(!ready_outstanding_);
  return core_->transfer_leadership(target);
}

void Group::on_applied(Index applied, Index durable, const DriverOptions& options, Events& events) {
  TESSERA_ASSERT(!ready_outstanding_);
  // Reports may arrive late or twice (an apply stage restarted with the node is a new one, but
  // a report queued before a restore may follow it): only progress counts.
  applied_ = std::min(std::max(applied_, applied), handed_out_);
  durable_ = std::min(std::max(durable_, durable), applied_);
  answer_applied(events);
  // The log is needed only after what the state machine holds durably (a restart resumes
  // there), so it may start after durable_. Cheap to write, so done in steps, not per entry.
  if (durable_ < core_->snapshot().index + options.compact_entries_min) return;
  core_->compact(durable_);
  pending_compaction_ = core_->snapshot();
  ++stats_->compactions;
}

void Group::answer_applied(Events& events) {
  while (!proposals_committed_.empty() && proposals_committed_.begin()->first <= applied_) {
    auto it = proposals_committed_.begin();
    events.proposal_done(Reply{id_, it->second.token, Answer::kOk, it->first, it->second.term, {}});
    proposals_committed_.erase(it);
    ++stats_->proposals_applied;
  }
  while (!reads_confirmed_.empty() && reads_confirmed_.begin()->first <= applied_) {
    auto it = reads_confirmed_.begin();
    events.read_done(Reply{id_, it->second, Answer::kOk, it->first, 0, {}});
    reads_confirmed_.erase(it);
    ++stats_->reads_served;
  }
}

void Group::abandon(Events& events) {
  TESSERA_ASSERT(!ready_outstanding_);
  for (const auto& [index, p] : proposals_) {
    events.proposal_done(Reply{id_, p.token, Answer::kNoGroup, 0, 0, {}});
  }
  for (const auto& [index, p] : proposals_committed_) {
    events.proposal_done(Reply{id_, p.token, Answer::kNoGroup, 0, 0, {}});
  }
  for (const auto& [request_id, token] : reads_) {
    events.read_done(Reply{id_, token, Answer::kNoGroup, 0, 0, {}});
  }
  for (const auto& [index, token] : reads_confirmed_) {
    events.read_done(Reply{id_, token, Answer::kNoGroup, 0, 0, {}});
  }
  proposals_.clear();
  proposals_committed_.clear();
  reads_.clear();
  reads_confirmed_.clear();
}

bool Group::wants_ready(const DriverOptions& options, bool* stalled) const {
  *stalled = false;
  if (!core_->has_ready()) return false;
  const RaftLog& log = core_->log();
  if (log.committed() > log.applied() &&
      handed_out_ - applied_ >= options.apply_backlog_per_group_max) {
    *stalled = true;
    return false;
  }
  return true;
}

Ready& Group::take_ready() {
  TESSERA_ASSERT(!ready_outstanding_);
  ready_ = core_->ready();
  ready_outstanding_ = true;
  return ready_;
}

bool Group::is_snapshot(const Message& message) { return message.type == MessageType::kSnapshot; }

std::vector<Message> Group::take_early_messages() {
  TESSERA_ASSERT(ready_outstanding_);
  return std::move(ready_.early_messages);
}

std::vector<Message> Group::take_late_messages() {
  TESSERA_ASSERT(ready_outstanding_);
  return std::move(ready_.messages);
}

GroupWrite Group::write() {
  TESSERA_ASSERT(ready_outstanding_);
  GroupWrite w;
  w.group = id_;
  if (ready_.snapshot) {
    w.snapshot = ready_.snapshot;
    pending_compaction_.reset();  // the installed snapshot replaces the whole log
  } else if (pending_compaction_) {
    w.compacted_to = std::move(pending_compaction_);
    pending_compaction_.reset();
  }
  w.entries = ready_.entries;
  w.hard_state = ready_.hard_state;
  return w;
}

std::vector<ApplyItem> Group::apply_items(std::vector<Message> snapshots, Events& events) {
  TESSERA_ASSERT(ready_outstanding_);
  std::vector<ApplyItem> items;
  // A snapshot message was made before this Ready's committed entries were handed out: its
  // image is the state after every earlier item, so it goes first.
  for (Message& m : snapshots) {
    const tessera::NodeId* to = node_of(m.to);
    TESSERA_ASSERT(to != nullptr);  // the driver routes before it gets here
    ApplyItem item;
    item.kind = ApplyItem::Kind::kSendSnapshot;
    item.snapshot = m.snapshot;
    // The core names its applied index, which is what this replica handed out so far: the
    // image made after those items is the state at exactly that index.
    TESSERA_ASSERT(item.snapshot.index == handed_out_);
    item.to = *to;
    item.message = std::move(m);
    items.push_back(std::move(item));
  }
  if (ready_.snapshot) {
    const SnapshotMeta& meta = *ready_.snapshot;
    ApplyItem item;
    item.kind = ApplyItem::Kind::kRestore;
    item.snapshot = meta;
    items.push_back(std::move(item));
    handed_out_ = meta.index;
    // Proposals the snapshot covers may or may not be in it.
    while (!proposals_.empty() && proposals_.begin()->first <= meta.index) {
      auto it = proposals_.begin();
      events.proposal_done(Reply{id_, it->second.token, Answer::kUnknown, it->first, 0, {}});
      proposals_.erase(it);
    }
  }
  if (!ready_.committed_entries.empty()) {
    TESSERA_ASSERT(ready_.committed_entries.front().index == handed_out_ + 1);
    for (const Entry& e : ready_.committed_entries) {
      auto it = proposals_.find(e.index);
      if (it == proposals_.end()) continue;
      if (it->second.term == e.term) {
        proposals_committed_.emplace(e.index, it->second);
      } else {
        events.proposal_done(Reply{id_, it->second.token, Answer::kLost, e.index, 0, {}});
      }
      proposals_.erase(it);
    }
    handed_out_ = ready_.committed_entries.back().index;
    stats_->entries_handed_out += ready_.committed_entries.size();
    ApplyItem item;
    item.kind = ApplyItem::Kind::kEntries;
    // Copied: advance() reads the Ready's committed entries.
    item.entries = ready_.committed_entries;
    items.push_back(std::move(item));
  }
  for (const ReadState& rs : ready_.read_states) {
    auto it = reads_.find(rs.request_id);
    if (it == reads_.end()) continue;
    reads_confirmed_.emplace(rs.index, it->second);
    reads_.erase(it);
  }
  for (uint64_t request_id : ready_.reads_failed) {
    auto it = reads_.find(request_id);
    if (it == reads_.end()) continue;
    reply_not_leader(it->second, true, events);
    reads_.erase(it);
  }
  answer_applied(events);  // reads at an index the state machine has already applied
  return items;
}

void Group::advance() {
  TESSERA_ASSERT(ready_outstanding_);
  core_->advance(ready_);
  ready_outstanding_ = false;
  ready_ = Ready();
}

void Group::announce_leader(Events& events) {
  const ReplicaId leader = core_->leader();
  if (announced_ && leader == announced_leader_) return;
  announced_ = true;
  announced_leader_ = leader;
  announced_term_ = core_->term();
  events.leader_changed(id_, leader_node(), announced_term_);
}

}  // namespace tessera::raft::driver
