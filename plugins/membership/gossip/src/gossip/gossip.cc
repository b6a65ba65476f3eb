// Gossip: construction, inputs, and the view (merge, refutation, events).
#include "gossip/gossip.h"

#include <algorithm>
#include <utility>

#include "tessera/assert.h"

namespace tessera::gossip {

std::string_view to_string(MemberStatus status) {
  switch (status) {
    case MemberStatus::kAlive:
      return "alive";
    case MemberStatus::kSuspect:
      return "suspect";
    case MemberStatus::kDead:
      return "dead";
    case MemberStatus::kLeft:
      return "left";
  }
  return "?";
}

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::kPing:
      return "ping";
    case MessageType::kAck:
      return "ack";
    case MessageType::kPingReq:
      return "ping-req";
    case MessageType::kPushPull:
      return "push-pull";
    case MessageType::kPushPullReply:
      return "push-pull-reply";
  }
  return "?";
}

Gossip::Gossip(Options options, Rng& rng) : options_(std::move(options)), rng_(rng) {
  TESSERA_REQUIRE(!options_.id.empty() && options_.id.size() <= options_.id_bytes_max);
  TESSERA_REQUIRE(!options_.address.empty());
  TESSERA_REQUIRE(options_.address.size() <= options_.address_bytes_max);
  TESSERA_REQUIRE(options_.zone.size() <= options_.zone_bytes_max);
  TESSERA_REQUIRE(options_.probe_timeout_ticks > 0);
  TESSERA_REQUIRE(options_.probe_timeout_ticks < options_.probe_interval_ticks);
  TESSERA_REQUIRE(options_.suspicion_ticks > 0);
  TESSERA_REQUIRE(options_.gossip_interval_ticks > 0 && options_.reconnect_interval_ticks > 0);
  TESSERA_REQUIRE(options_.join_retry_ticks > 0 && options_.seed_sync_ticks > 0);
  TESSERA_REQUIRE(options_.entries_per_message_max >= 3);
  TESSERA_REQUIRE(options_.members_max > 0 && options_.relays_max > 0);
  self_ = Member{options_.id, options_.address, options_.zone, options_.incarnation_start,
                 MemberStatus::kAlive, options_.joining};
}

void Gossip::finish_joining() {
  if (!self_.joining) return;
  self_.joining = false;
  ++self_.incarnation;
  enqueue_news(self_.id);
}

Gossip::RemoveRefusal Gossip::remove(const NodeId& id) {
  if (id == self_.id) return RemoveRefusal::kSelf;
  auto it = view_.find(id);
  if (it == view_.end()) return RemoveRefusal::kUnknown;
  Entry& entry = it->second;
  if (is_live(entry.member.status)) return RemoveRefusal::kLive;
  if (entry.member.status == MemberStatus::kLeft) return RemoveRefusal::kNone;
  const Member before = entry.member;
  Member removed = before;
  removed.status = MemberStatus::kLeft;  // outranks dead at the same incarnation
  set_entry(entry, removed);
  emit_change(before, removed);
  enqueue_news(id);
  return RemoveRefusal::kNone;
}

void Gossip::join() {
  if (started_) return;
  started_ = true;
  enqueue_news(self_.id);
  for (const std::string& seed : options_.seeds) {
    if (seed != self_.address) send_push_pull({}, seed, MessageType::kPushPull);
  }
}

void Gossip::leave() {
  if (leaving_) return;
  leaving_ = true;
  self_.status = MemberStatus::kLeft;
  enqueue_news(self_.id);
  if (!started_) return;
  std::vector<NodeId> live = live_others();
  for (uint32_t i = 0; i < options_.leave_fanout && !live.empty(); ++i) {
    const size_t at = rng_.uniform(live.size());
    const Member* m = entry_member(live[at]);
    send_push_pull(m->id, m->address, MessageType::kPushPull);
    live.erase(live.begin() + static_cast<std::ptrdiff_t>(at));
  }
}

void Gossip::step(const Message& m) {
  if (!started_) return;
  // The sender's own entry comes first; anything else is not a message of this protocol.
  if (m.from.empty() || m.from == self_.id || m.from_address.empty()) return;
  if (m.entries.empty() || m.entries.size() > options_.entries_per_message_max) return;
  if (m.entries[0].id != m.from) return;
  // An address reused by another node since the sender learned it: not for us.
  if (!m.to.empty() && m.to != self_.id) return;
  joined_ = true;
  for (const Member& entry : m.entries) merge(entry);
  switch (m.type) {
    case MessageType::kPing:
      handle_ping(m);
      break;
    case MessageType::kAck:
      handle_ack(m);
      break;
    case MessageType::kPingReq:
      handle_ping_req(m);
      break;
    case MessageType::kPushPull:
    case MessageType::kPushPullReply:
      handle_push_pull(m);
      break;
  }
}

void Gossip::tick() {
  if (!started_) return;
  ++ticks_;
  if (leaving_) {
    ++leave_elapsed_;
  } else {
    tick_probe();
  }
  tick_suspicion_and_retention();
  tick_gossip();
}

Effects Gossip::drain() {
  Effects out = std::move(effects_);
  effects_ = Effects{};
  return out;
}

std::vector<Member> Gossip::members() const {
  std::vector<Member> out;
  out.reserve(view_.size() + 1);
  out.push_back(self_);
  for (const auto& [id, entry] : view_) out.push_back(entry.member);
  return out;
}

const Member* Gossip::find(const NodeId& id) const {
  if (id == self_.id) return &self_;
  return entry_member(id);
}

const Member* Gossip::entry_member(const NodeId& id) const {
  auto it = view_.find(id);
  return it == view_.end() ? nullptr : &it->second.member;
}

bool Gossip::valid(const Member& m) const {
  return !m.id.empty() && m.id.size() <= options_.id_bytes_max && !m.address.empty() &&
         m.address.size() <= options_.address_bytes_max &&
         m.zone.size() <= options_.zone_bytes_max &&
         static_cast<uint8_t>(m.status) <= static_cast<uint8_t>(MemberStatus::kLeft);
}

void Gossip::merge(const Member& incoming) {
  if (!valid(incoming)) return;
  if (incoming.id == self_.id) {
    refute(incoming);
    return;
  }
  auto it = view_.find(incoming.id);
  if (it == view_.end()) {
    // News of the death or leave of a node this view does not hold is dropped: either this
    // node never knew it, or it forgot it after the retention bound, and learning it again
    // from a peer that forgets later would keep the entry alive forever, bouncing between
    // views. Stale alive news cannot follow: see README, "Leave and retention".
    if (!is_live(incoming.status) || view_.size() >= options_.members_max) return;
    Entry& entry = view_[incoming.id];
    set_entry(entry, incoming);
    effects_.events.push_back(Event{EventKind::kJoined, incoming});
    enqueue_news(incoming.id);
    if (is_live(incoming.status)) add_to_probe_order(incoming.id);
    return;
  }
  Entry& entry = it->second;
  if (!supersedes(incoming, entry.member)) return;
  const Member before = entry.member;
  set_entry(entry, incoming);
  emit_change(before, incoming);
  enqueue_news(incoming.id);
  if (!is_live(before.status) && is_live(incoming.status)) add_to_probe_order(incoming.id);
}

// News about this node that is newer than its own entry: someone suspects it, declares it
// dead or left, or remembers an incarnation from before a restart. Only this node may answer,
// by outranking the claim (SWIM's refutation); a leaving node instead makes its leave outrank it.
void Gossip::refute(const Member& claim) {
  if (!supersedes(claim, self_)) return;
  if (leaving_) {
    self_.incarnation = claim.incarnation;
    self_.status = MemberStatus::kLeft;  // left ranks highest at equal incarnation
  } else {
    self_.incarnation = claim.incarnation + 1;
    self_.status = MemberStatus::kAlive;
  }
  TESSERA_ASSERT(supersedes(self_, claim) || self_.status == claim.status);
  enqueue_news(self_.id);
}

void Gossip::set_entry(Entry& entry, const Member& member) {
  const bool new_suspicion =
      member.status == MemberStatus::kSuspect &&
      (entry.member.status != MemberStatus::kSuspect ||
       entry.member.incarnation != member.incarnation || entry.member.id.empty());
  if (new_suspicion) entry.suspect_deadline = ticks_ + options_.suspicion_ticks;
  entry.member = member;
  entry.changed_at = ticks_;
}

void Gossip::emit_change(const Member& before, const Member& after) {
  if (before.status == after.status && before.address == after.address &&
      before.zone == after.zone && before.joining == after.joining) {
    return;  // an incarnation bump alone is no news to listeners
  }
  EventKind kind = EventKind::kAlive;
  switch (after.status) {
    case MemberStatus::kAlive:
      kind = EventKind::kAlive;
      break;
    case MemberStatus::kSuspect:
      kind = EventKind::kSuspect;
      break;
    case MemberStatus::kDead:
      kind = EventKind::kDead;
      break;
    case MemberStatus::kLeft:
      kind = EventKind::kLeft;
      break;
  }
  effects_.events.push_back(Event{kind, after});
}

std::vector<NodeId> Gossip::live_others() const {
  std::vector<NodeId> out;
  for (const auto& [id, entry] : view_) {
    if (is_live(entry.member.status)) out.push_back(id);
  }
  return out;
}

std::vector<NodeId> Gossip::dead_others() const {
  std::vector<NodeId> out;
  for (const auto& [id, entry] : view_) {
    if (entry.member.status == MemberStatus::kDead) out.push_back(id);
  }
  return out;
}

}  // namespace tessera::gossip
