// The ring placement plugin: consistent hashing with virtual nodes for the AP profile.
// See hash_ring.h for the ring itself; this file adapts it to the Placement interface and
// swaps rings atomically when membership changes.
#include <memory>
#include <mutex>

#include "hash_ring.h"
#include "tessera/placement.h"
#include "tessera/plugin.h"

namespace tessera::ring {
namespace {

class RingPlacement : public Placement {
 public:
  RingPlacement(uint32_t vnodes_per_node, uint32_t replicas)
      : vnodes_per_node_(vnodes_per_node), replicas_(replicas) {}

  Result<std::vector<RangeMove>> set_members(std::span<const NodeInfo> members) override {
    auto next = std::make_shared<const HashRing>(members, vnodes_per_node_);
    std::lock_guard lock(mutex_);
    std::vector<RangeMove> moves;
    if (ring_) moves = plan_moves(*ring_, *next, replicas_);
    ring_ = std::move(next);
    return moves;
  }

  Result<Location> locate(ByteView, ByteView key) const override {
    std::shared_ptr<const HashRing> ring;
    {
      std::lock_guard lock(mutex_);
      ring = ring_;
    }
    if (!ring || ring->empty()) return Status::unavailable("the ring has no members");
    // Fewer members than N would quietly make every quorum smaller (ALL of one node is no
    // replication at all), as on a node that has not heard from its peers yet.
    if (ring->node_count() < replicas_) {
      return Status::unavailable("the ring has " + std::to_string(ring->node_count()) +
                                 " members, fewer than replicas = " + std::to_string(replicas_) +
                                 " (N)");
    }
    uint64_t token = key_token(key);
    HashRing::Arc arc = ring->arc_of(token);
    Location location;
    // A wrapping arc is split at zero; the location names the half that holds the key.
    bool wraps = arc.start >= arc.end;
    location.range.start = (wraps && token < arc.end) ? Bytes() : encode_token(arc.start);
    location.range.end = (wraps && token >= arc.start) ? Bytes() : encode_token(arc.end);
    location.replicas = ring->preference_list(token, replicas_);
    location.owners = std::min<size_t>(replicas_, location.replicas.size());
    return location;
  }

  // One location per vnode arc, the wrapping arc in two halves (as locate() names them).
  Result<std::vector<Location>> list_ranges() const override {
    std::shared_ptr<const HashRing> ring;
    {
      std::lock_guard lock(mutex_);
      ring = ring_;
    }
    if (!ring || ring->empty()) return Status::unavailable("the ring has no members");
    std::vector<Location> ranges;
    const std::vector<uint64_t> tokens = ring->tokens();
    for (size_t i = 0; i < tokens.size(); ++i) {
      // The arc that ends at tokens[i] starts at the previous token (wrapping).
      const uint64_t start = tokens[(i + tokens.size() - 1) % tokens.size()];
      Location location;
      location.replicas = ring->preference_list(start, replicas_);
      location.owners = std::min<size_t>(replicas_, location.replicas.size());
      location.range.start = i == 0 ? Bytes() : encode_token(start);
      location.range.end = encode_token(tokens[i]);
      ranges.push_back(location);
    }
    // The wrap's other half: from the last token to the end of the token space.
    Location tail;
    tail.replicas = ring->preference_list(tokens.back(), replicas_);
    tail.owners = std::min<size_t>(replicas_, tail.replicas.size());
    tail.range.start = encode_token(tokens.back());
    ranges.push_back(tail);
    return ranges;
  }

 private:
  const uint32_t vnodes_per_node_;
  const uint32_t replicas_;
  mutable std::mutex mutex_;
  std::shared_ptr<const HashRing> ring_;
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
    .version = "1.0.0",
    .description = "consistent-hash ring with virtual nodes, zone-aware preference lists",
    .config_keys = kConfigKeys,
    .config_key_count = std::size(kConfigKeys),
    .make_placement = make_ring,
};

}  // namespace tessera::ring

TESSERA_EXPORT_PLUGIN(tessera::ring::ring_descriptor)
