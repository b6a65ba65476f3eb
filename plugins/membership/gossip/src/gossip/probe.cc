// Gossip: failure detection (SWIM). Each probe period this node pings the next member of a
// shuffled round-robin pass over the live members; without an ack after probe_timeout_ticks
// it asks indirect_probes helpers to ping the target for it (so that one bad link does not
// make a suspect); without any ack by the end of the period the target becomes suspect. A
// suspect that does not refute within suspicion_ticks is dead. The round-robin pass, rather
// than a random pick per period, is what bounds detection time: every member is probed at
// least once per pass.
#include <algorithm>

#include "gossip/gossip.h"
#include "tessera/assert.h"

namespace tessera::gossip {

void Gossip::tick_probe() {
  if (probe_) {
    ++probe_->elapsed;
    if (!probe_->acked && probe_->elapsed == options_.probe_timeout_ticks) send_indirect();
  }
  if (++probe_clock_ < options_.probe_interval_ticks) return;
  probe_clock_ = 0;
  if (probe_ && !probe_->acked) suspect(probe_->target);
  probe_.reset();
  start_probe();
}

void Gossip::start_probe() {
  // At most one reshuffle: a pass that ends starts the next, which may be empty.
  for (int pass = 0; pass < 2; ++pass) {
    while (probe_next_ < probe_order_.size()) {
      const NodeId id = probe_order_[probe_next_++];
      const Member* target = entry_member(id);
      if (target == nullptr || !is_live(target->status)) continue;  // skipping costs no period
      probe_ = Probe{id, target->address, next_seq_++, 0, false};
      Message ping = make_message(MessageType::kPing, id);
      ping.seq = probe_->seq;
      add_hint(ping, id);
      add_news(ping);
      send(id, target->address, std::move(ping));
      return;
    }
    probe_order_ = live_others();
    probe_next_ = 0;
    for (size_t i = probe_order_.size(); i > 1; --i) {
      std::swap(probe_order_[i - 1], probe_order_[rng_.uniform(i)]);
    }
    if (probe_order_.empty()) return;
  }
}

// A member that became live joins the current pass at a random place not yet visited, so it is
// probed within this pass or the next.
void Gossip::add_to_probe_order(const NodeId& id) {
  const auto visited_end = probe_order_.begin() + static_cast<std::ptrdiff_t>(probe_next_);
  if (std::find(visited_end, probe_order_.end(), id) != probe_order_.end()) return;
  const size_t unvisited = probe_order_.size() - probe_next_;
  const size_t at = probe_next_ + rng_.uniform(unvisited + 1);
  probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(at), id);
}

void Gossip::send_indirect() {
  TESSERA_ASSERT(probe_.has_value());
  std::vector<NodeId> helpers = live_others();
  std::erase(helpers, probe_->target);
  // A partial Fisher-Yates shuffle picks indirect_probes distinct helpers.
  const size_t count = std::min<size_t>(options_.indirect_probes, helpers.size());
  for (size_t i = 0; i < count; ++i) {
    std::swap(helpers[i], helpers[i + rng_.uniform(helpers.size() - i)]);
    const Member* helper = entry_member(helpers[i]);
    Message req = make_message(MessageType::kPingReq, helper->id);
    req.seq = probe_->seq;
    req.target = probe_->target;
    req.target_address = probe_->address;
    add_hint(req, helper->id);
    add_news(req);
    send(helper->id, helper->address, std::move(req));
  }
}

void Gossip::suspect(const NodeId& id) {
  auto it = view_.find(id);
  if (it == view_.end() || it->second.member.status != MemberStatus::kAlive) return;
  const Member before = it->second.member;
  Member after = before;
  after.status = MemberStatus::kSuspect;
  set_entry(it->second, after);
  emit_change(before, after);
  enqueue_news(id);
}

void Gossip::tick_suspicion_and_retention() {
  for (auto it = view_.begin(); it != view_.end();) {
    Entry& entry = it->second;
    const uint64_t age = ticks_ - entry.changed_at;
    const MemberStatus status = entry.member.status;
    if (status == MemberStatus::kSuspect && ticks_ >= entry.suspect_deadline) {
      const Member before = entry.member;
      Member after = before;
      after.status = MemberStatus::kDead;
      set_entry(entry, after);
      emit_change(before, after);
      enqueue_news(it->first);
    } else if ((status == MemberStatus::kDead && age >= options_.dead_retention_ticks) ||
               (status == MemberStatus::kLeft && age >= options_.left_retention_ticks)) {
      effects_.events.push_back(Event{EventKind::kForgotten, entry.member});
      news_.erase(it->first);
      it = view_.erase(it);
      continue;
    }
    ++it;
  }
  expire_relays();
}

void Gossip::expire_relays() {
  for (auto it = relays_.begin(); it != relays_.end();) {
    it = it->second.expires_at <= ticks_ ? relays_.erase(it) : std::next(it);
  }
}

void Gossip::handle_ping(const Message& m) {
  Message ack = make_message(MessageType::kAck, m.from);
  ack.seq = m.seq;
  add_hint(ack, m.from);
  add_news(ack);
  send(m.from, m.from_address, std::move(ack));
}

void Gossip::handle_ack(const Message& m) {
  if (probe_ && m.seq == probe_->seq) {
    probe_->acked = true;
    return;
  }
  auto relay = relays_.find(m.seq);
  if (relay == relays_.end()) return;  // late, duplicated, or expired: not an error
  // Forward the target's answer, its own entry included, to the node that asked.
  Message ack = make_message(MessageType::kAck, relay->second.origin);
  ack.seq = relay->second.origin_seq;
  ack.entries.push_back(m.entries[0]);
  add_news(ack);
  send(relay->second.origin, relay->second.origin_address, std::move(ack));
  relays_.erase(relay);
}

void Gossip::handle_ping_req(const Message& m) {
  if (leaving_ || relays_.size() >= options_.relays_max) return;  // best effort by design
  if (m.target.empty() || m.target == self_.id || m.target == m.from) return;
  if (m.target_address.empty() || m.target_address.size() > options_.address_bytes_max) return;
  const uint64_t seq = next_seq_++;
  relays_[seq] = Relay{m.from, m.from_address, m.seq, ticks_ + options_.probe_interval_ticks};
  Message ping = make_message(MessageType::kPing, m.target);
  ping.seq = seq;
  add_hint(ping, m.target);
  add_news(ping);
  send(m.target, m.target_address, std::move(ping));
}

}  // namespace tessera::gossip
