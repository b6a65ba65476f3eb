// The ring placement plugin: consistent hashing with virtual nodes for the AP profile.
// See hash_ring.h for the ring itself; this file adapts it to the Placement interface and
// swaps rings atomically when membership changes.
#include <algorithm>
#include <memory>
#include <mutex>
#include <set>

#include "hash_ring.h"
#include "tessera/placement.h"
#include "tessera/plugin.h"

namespace tessera::ring {
namespace {

class RingPlacement : public Placement {
 public:
  RingPlacement(uint32_t vnodes_per_node, uint32_t replicas)
      : vnodes_per_node_(vnodes_per_node), replicas_(replicas) {}

  // Moves between the rings of owners, less those to a node that was joining: it copied its
  // ranges itself before it said it owns them.
  Result<std::vector<RangeMove>> set_members(std::span<const NodeInfo> members) override {
    auto next = std::make_shared<Rings>();
    next->current = std::make_shared<const HashRing>(members, vnodes_per_node_);
    for (const NodeInfo& member : members) {
      if (member.joining && member.state != NodeState::kLeft) next->joining.insert(member.id);
    }
    if (!next->joining.empty()) {
      next->after_joins = std::make_shared<const HashRing>(members, vnodes_per_node_, true);
    }
    std::lock_guard lock(mutex_);
    std::vector<RangeMove> moves;
    if (rings_) {
      moves = plan_moves(*rings_->current, *next->current, replicas_);
      std::erase_if(moves, [&](const RangeMove& move) { return rings_->joining.count(move.to); });
    }
    rings_ = std::move(next);
    return moves;
  }

  Result<Location> locate(ByteView, ByteView key) const override {
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const Rings> rings, serving_rings());
    const HashRing& ring = *rings->current;
    uint64_t token = key_token(key);
    HashRing::Arc arc = ring.arc_of(token);
    Location location;
    // A wrapping arc is split at zero; the location names the half that holds the key.
    bool wraps = arc.start >= arc.end;
    location.range.start = (wraps && token < arc.end) ? Bytes() : encode_token(arc.start);
    location.range.end = (wraps && token >= arc.start) ? Bytes() : encode_token(arc.end);
    location.replicas = ring.preference_list(token, replicas_);
    location.owners = std::min<size_t>(replicas_, location.replicas.size());
    if (rings->after_joins) location.next_owners = next_owners(*rings, location, token);
    return location;
  }

  // One location per vnode arc, the wrapping arc in two halves (as locate() names them).
  Result<std::vector<Location>> list_ranges() const override {
    std::shared_ptr<const Rings> rings;
    {
      std::lock_guard lock(mutex_);
      rings = rings_;
    }
    if (!rings || rings->current->empty()) return Status::unavailable("the ring has no members");
    const HashRing& ring = *rings->current;
    std::vector<Location> ranges;
    auto add = [&](Bytes start, Bytes end, uint64_t token) {
      Location location;
      location.replicas = ring.preference_list(token, replicas_);
      location.owners = std::min<size_t>(replicas_, location.replicas.size());
      location.range.start = std::move(start);
      location.range.end = std::move(end);
      if (rings->after_joins) location.next_owners = next_owners(*rings, location, token);
      ranges.push_back(std::move(location));
    };
    const std::vector<uint64_t> tokens = ring.tokens();
    for (size_t i = 0; i < tokens.size(); ++i) {
      // The arc that ends at tokens[i] starts at the previous token (wrapping).
      const uint64_t start = tokens[(i + tokens.size() - 1) % tokens.size()];
      add(i == 0 ? Bytes() : encode_token(start), encode_token(tokens[i]), start);
    }
    // The wrap's other half: from the last token to the end of the token space.
    add(encode_token(tokens.back()), Bytes(), tokens.back());
    return ranges;
  }

 private:
  // The ring of owners, and while members are joining the ring they will make with them.
  struct Rings {
    std::shared_ptr<const HashRing> current;
    std::shared_ptr<const HashRing> after_joins;  // null when no member is joining
    std::set<NodeId> joining;
  };

  Result<std::shared_ptr<const Rings>> serving_rings() const {
    std::shared_ptr<const Rings> rings;
    {
      std::lock_guard lock(mutex_);
      rings = rings_;
    }
    if (!rings || rings->current->empty()) return Status::unavailable("the ring has no members");
    // Fewer members than N would quietly make every quorum smaller (ALL of one node is no
    // replication at all), as on a node that has not heard from its peers yet.
    if (rings->current->node_count() < replicas_) {
      return Status::unavailable(
          "the ring has " + std::to_string(rings->current->node_count()) +
          " members that own their ranges, fewer than replicas = " + std::to_string(replicas_) +
          " (N)" + (rings->joining.empty() ? "" : "; the others are still joining"));
    }
    return rings;
  }

  // The owners of `token` on the ring after the joins, or empty when they are today's.
  std::vector<NodeId> next_owners(const Rings& rings, const Location& now, uint64_t token) const {
    std::vector<NodeId> after = rings.after_joins->preference_list(token, replicas_);
    after.resize(std::min<size_t>(replicas_, after.size()));
    std::vector<NodeId> today(now.replicas.begin(),
                              now.replicas.begin() + static_cast<std::ptrdiff_t>(now.owners));
    std::vector<NodeId> sorted_after = after;
    std::sort(sorted_after.begin(), sorted_after.end());
    std::sort(today.begin(), today.end());
    if (sorted_after == today) return {};
    return after;
  }

  const uint32_t vnodes_per_node_;
  const uint32_t replicas_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Rings> rings_;
};

constexpr ConfigKeySpec kConfigKeys[] = {
    {"vnodes_per_node", "tokens per node on the ring (default 64, 1..4096)"},
    {"replicas", "N: home replicas of each key (default 3, 1..16)"},
};

Result<std::unique_ptr<Placement>> make_ring(const PluginContext&,
                                             const ConfigSection& config) noexcept {
  TESSERA_ASSIGN_OR_RETURN(int64_t vnodes, config.get_int("vnodes_per_node", 64, 1, 4096));
  TESSERA_ASSIGN_OR_RETURN(int64_t replicas, config.get_int("replicas", 3, 1, 16));
  return std::unique_ptr<Placement>(std::make_unique<RingPlacement>(
      static_cast<uint32_t>(vnodes), static_cast<uint32_t>(replicas)));
}

}  // namespace

extern const PluginDescriptor ring_descriptor;
const PluginDescriptor ring_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kPlacement,
    .name = "ring",
    .version = "1.1.0",
    .description = "consistent-hash ring with virtual nodes, zone-aware preference lists",
    .config_keys = kConfigKeys,
    .config_key_count = std::size(kConfigKeys),
    .make_placement = make_ring,
};

}  // namespace tessera::ring

TESSERA_EXPORT_PLUGIN(tessera::ring::ring_descriptor)
