// Gossip: dissemination. Three channels, each bounded by entries_per_message_max:
//   - piggyback: every ping, ack and ping-req carries the sender's own entry, the receiver's
//     entry when the sender thinks it is not alive (so a suspect learns it must refute at the
//     first message it exchanges), and recent changes, each sent a bounded number of times;
//   - push-pull: every gossip_interval_ticks, a window of the view to one random live member,
//     which answers with a window of its own; the windows walk the whole view over rounds, so
//     views converge even after the piggybacked news ran out of transmissions;
//   - reconnect and seeds: push-pulls with a dead member, and with the seeds, so that two sides
//     that declared each other dead (a healed partition) talk again.
#include <algorithm>
#include <bit>

#include "gossip/gossip.h"
#include "tessera/assert.h"

namespace tessera::gossip {

void Gossip::tick_gossip() {
  const std::vector<NodeId> live = live_others();
  ++seed_clock_;
  if (live.empty()) {
    // Alone (a first node, a node whose peers all died or that was cut off): ask every seed.
    if (seed_clock_ >= options_.join_retry_ticks) {
      seed_clock_ = 0;
      for (const std::string& seed : options_.seeds) {
        if (seed != self_.address) send_push_pull({}, seed, MessageType::kPushPull);
      }
    }
  } else if (seed_clock_ >= options_.seed_sync_ticks) {
    seed_clock_ = 0;
    std::vector<std::string> seeds = options_.seeds;
    std::erase(seeds, self_.address);
    if (!seeds.empty()) {
      send_push_pull({}, seeds[rng_.uniform(seeds.size())], MessageType::kPushPull);
    }
  }
  if (++gossip_clock_ >= options_.gossip_interval_ticks) {
    gossip_clock_ = 0;
    if (std::optional<NodeId> to = pick(live)) {
      send_push_pull(*to, entry_member(*to)->address, MessageType::kPushPull);
    }
  }
  if (++reconnect_clock_ >= options_.reconnect_interval_ticks) {
    reconnect_clock_ = 0;
    if (std::optional<NodeId> to = pick(dead_others())) {
      send_push_pull(*to, entry_member(*to)->address, MessageType::kPushPull);
    }
  }
}

void Gossip::send_push_pull(const NodeId& to, const std::string& address, MessageType type) {
  Message m = make_message(type, to);
  add_hint(m, to);
  add_window(m);
  send(to, address, std::move(m));
}

void Gossip::handle_push_pull(const Message& m) {
  // The entries were merged by step(); a push asks for the answering half.
  if (m.type == MessageType::kPushPull) {
    send_push_pull(m.from, m.from_address, MessageType::kPushPullReply);
  }
}

Message Gossip::make_message(MessageType type, const NodeId& to) {
  Message m;
  m.type = type;
  m.from = self_.id;
  m.from_address = self_.address;
  m.to = to;
  m.entries.push_back(self_);
  return m;
}

namespace {

bool carries(const Message& m, const NodeId& id) {
  return std::any_of(m.entries.begin(), m.entries.end(),
                     [&](const Member& e) { return e.id == id; });
}

}  // namespace

void Gossip::add_hint(Message& m, const NodeId& about) {
  if (about.empty() || m.entries.size() >= options_.entries_per_message_max) return;
  const Member* entry = entry_member(about);
  if (entry != nullptr && entry->status != MemberStatus::kAlive && !carries(m, about)) {
    m.entries.push_back(*entry);
  }
}

void Gossip::add_news(Message& m) {
  if (m.entries.size() >= options_.entries_per_message_max || news_.empty()) return;
  // Freshest news first (most transmissions left), ties by id: deterministic.
  std::vector<std::pair<uint32_t, NodeId>> order;
  order.reserve(news_.size());
  for (const auto& [id, left] : news_) order.emplace_back(left, id);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (const auto& [left, id] : order) {
    if (m.entries.size() >= options_.entries_per_message_max) break;
    if (carries(m, id)) continue;
    const Member* entry = find(id);
    if (entry == nullptr) {
      news_.erase(id);
      continue;
    }
    m.entries.push_back(*entry);
    if (--news_[id] == 0) news_.erase(id);
  }
}

// The next entries of the view after window_cursor_, wrapping once; consecutive windows cover
// the whole view in ceil(view / (entries_per_message_max - 2)) push-pulls.
void Gossip::add_window(Message& m) {
  if (view_.empty()) return;
  auto it = view_.upper_bound(window_cursor_);
  for (size_t visited = 0; visited < view_.size(); ++visited, ++it) {
    if (m.entries.size() >= options_.entries_per_message_max) break;
    if (it == view_.end()) it = view_.begin();
    window_cursor_ = it->first;
    if (!carries(m, it->first)) m.entries.push_back(it->second.member);
  }
}

void Gossip::enqueue_news(const NodeId& id) {
  const uint32_t log_members = std::bit_width(view_.size() + 1);  // ceil(log2(members + 1))
  news_[id] = std::max<uint32_t>(1, options_.retransmit_mult * log_members);
}

void Gossip::send(const NodeId& to, const std::string& address, Message m) {
  TESSERA_ASSERT(!address.empty());
  TESSERA_ASSERT(m.entries.size() <= options_.entries_per_message_max);
  TESSERA_ASSERT(!m.entries.empty() && m.entries[0].id == self_.id);
  effects_.messages.push_back(Outgoing{to, address, std::move(m)});
}

std::optional<NodeId> Gossip::pick(const std::vector<NodeId>& ids) {
  if (ids.empty()) return std::nullopt;
  return ids[rng_.uniform(ids.size())];
}

}  // namespace tessera::gossip
