#include "hash_ring.h"

#include <xxhash.h>

#include <algorithm>
#include <set>

#include "tessera/assert.h"
#include "tessera/coding.h"

namespace tessera::ring {

uint64_t key_token(ByteView key) { return XXH64(key.data(), key.size(), 0); }

Bytes encode_token(uint64_t token) {
  Bytes out;
  put_fixed64_be(&out, token);
  return out;
}

HashRing::HashRing(std::span<const NodeInfo> members, uint32_t vnodes_per_node,
                   bool with_joining) {
  for (const NodeInfo& member : members) {
    if (member.state == NodeState::kLeft || (member.joining && !with_joining)) continue;
    uint32_t index = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(member);
    for (uint32_t i = 0; i < vnodes_per_node; ++i) {
      std::string label = member.id + "#" + std::to_string(i);
      vnodes_.push_back({XXH64(label.data(), label.size(), 0), index});
    }
  }
  // Equal tokens (a 64-bit collision) are ordered by node id, so every node sorts the same way.
  std::sort(vnodes_.begin(), vnodes_.end(), [this](const Vnode& a, const Vnode& b) {
    return a.token != b.token ? a.token < b.token : nodes_[a.node].id < nodes_[b.node].id;
  });
}

bool HashRing::holds(const NodeId& id) const {
  return std::any_of(nodes_.begin(), nodes_.end(),
                     [&](const NodeInfo& node) { return node.id == id; });
}

size_t HashRing::owner_index(uint64_t token) const {
  TESSERA_REQUIRE(!vnodes_.empty());
  auto it = std::upper_bound(vnodes_.begin(), vnodes_.end(), token,
                             [](uint64_t t, const Vnode& v) { return t < v.token; });
  return it == vnodes_.end() ? 0 : static_cast<size_t>(it - vnodes_.begin());
}

std::vector<NodeId> HashRing::preference_list(uint64_t token, size_t owners) const {
  std::vector<uint32_t> walk;  // distinct nodes in ring order
  std::vector<bool> seen(nodes_.size(), false);
  size_t start = owner_index(token);
  for (size_t step = 0; step < vnodes_.size() && walk.size() < nodes_.size(); ++step) {
    uint32_t node = vnodes_[(start + step) % vnodes_.size()].node;
    if (!seen[node]) {
      seen[node] = true;
      walk.push_back(node);
    }
  }
  // Owners: first pass takes nodes from unused zones, second pass fills in ring order.
  std::vector<uint32_t> chosen;
  std::set<std::string> zones;
  std::vector<bool> taken(nodes_.size(), false);
  for (uint32_t node : walk) {
    if (chosen.size() == owners) break;
    if (zones.insert(nodes_[node].zone).second) {
      chosen.push_back(node);
      taken[node] = true;
    }
  }
  for (uint32_t node : walk) {
    if (chosen.size() == owners) break;
    if (!taken[node]) {
      chosen.push_back(node);
      taken[node] = true;
    }
  }
  std::vector<NodeId> out;
  for (uint32_t node : chosen) out.push_back(nodes_[node].id);
  for (uint32_t node : walk) {
    if (!taken[node]) out.push_back(nodes_[node].id);
  }
  return out;
}

HashRing::Arc HashRing::arc_of(uint64_t token) const {
  size_t index = owner_index(token);
  size_t previous = index == 0 ? vnodes_.size() - 1 : index - 1;
  return {vnodes_[previous].token, vnodes_[index].token};
}

std::vector<uint64_t> HashRing::tokens() const {
  std::vector<uint64_t> out;
  for (const Vnode& v : vnodes_) out.push_back(v.token);
  return out;
}

std::vector<RangeMove> plan_moves(const HashRing& before, const HashRing& after, size_t owners) {
  std::vector<RangeMove> moves;
  if (before.empty() || after.empty()) return moves;
  // Between two consecutive tokens of either ring, both rings have fixed owners.
  std::vector<uint64_t> bounds = before.tokens();
  std::vector<uint64_t> more = after.tokens();
  bounds.insert(bounds.end(), more.begin(), more.end());
  bounds.push_back(0);
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

  for (size_t i = 0; i < bounds.size(); ++i) {
    uint64_t start = bounds[i];
    bool last = i + 1 == bounds.size();
    std::vector<NodeId> old_owners = before.preference_list(start, owners);
    std::vector<NodeId> new_owners = after.preference_list(start, owners);
    old_owners.resize(std::min(owners, old_owners.size()));
    new_owners.resize(std::min(owners, new_owners.size()));
    for (const NodeId& to : new_owners) {
      if (std::find(old_owners.begin(), old_owners.end(), to) != old_owners.end()) continue;
      KeyRange range{"", encode_token(start), last ? Bytes() : encode_token(bounds[i + 1])};
      // Copy from the first old owner (the one a read would ask first).
      NodeId from = old_owners.front();
      if (!moves.empty() && moves.back().to == to && moves.back().from == from &&
          moves.back().range.end == range.start) {
        moves.back().range.end = range.end;  // extend the previous, adjacent move
      } else {
        moves.push_back({std::move(range), from, to});
      }
    }
  }
  return moves;
}

}  // namespace tessera::ring
