// The range placement plugin: each table's keys split into ranges [a, b), each replicated by
// one Raft group, as the metadata service's range map says. See range_table.h for the lookups;
// this file adapts them to the Placement interface and swaps maps atomically.
#include <memory>
#include <mutex>

#include "range_table.h"
#include "tessera/placement.h"
#include "tessera/plugin.h"

namespace tessera::range {
namespace {

class RangePlacement : public Placement {
 public:
  // Ownership comes from the range map, not from membership: the members are kept only to
  // choose the members of new groups.
  Result<std::vector<RangeMove>> set_members(std::span<const NodeInfo> members) override {
    auto next = std::make_shared<const std::vector<NodeInfo>>(members.begin(), members.end());
    std::lock_guard lock(mutex_);
    members_ = std::move(next);
    return std::vector<RangeMove>{};
  }

  Result<std::vector<RangeMove>> set_range_map(const RangeMap& map) override {
    TESSERA_ASSIGN_OR_RETURN(RangeTable built, RangeTable::build(map));
    auto next = std::make_shared<const RangeTable>(std::move(built));
    std::lock_guard lock(mutex_);
    if (table_ && map.generation <= table_->generation()) {
      return Status::invalid_argument(
          "range map generation " + std::to_string(map.generation) +
          " is not above the installed generation " + std::to_string(table_->generation()));
    }
    std::vector<RangeMove> moves;
    if (table_) moves = plan_moves(*table_, *next);
    table_ = std::move(next);
    return moves;
  }

  Result<Location> locate(ByteView table, ByteView key) const override {
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const RangeTable> map, current());
    TESSERA_ASSIGN_OR_RETURN(const RangeDescriptor* range, map->find(table, key));
    return location_of(*range);
  }

  Result<std::vector<Location>> locate_span(ByteView table, ByteView start,
                                            ByteView end) const override {
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const RangeTable> map, current());
    TESSERA_ASSIGN_OR_RETURN(std::vector<const RangeDescriptor*> ranges,
                             map->span(table, start, end));
    std::vector<Location> out;
    out.reserve(ranges.size());
    for (const RangeDescriptor* range : ranges) out.push_back(location_of(*range));
    return out;
  }

  Result<std::vector<NodeId>> choose_replicas(size_t count,
                                              std::span<const NodeId> avoid) const override {
    std::shared_ptr<const std::vector<NodeInfo>> members;
    std::shared_ptr<const RangeTable> map;
    {
      std::lock_guard lock(mutex_);
      members = members_;
      map = table_;
    }
    if (!members) return Status::unavailable("no membership view yet to choose members from");
    std::unordered_map<NodeId, size_t> load;
    if (map) {
      for (const RangeDescriptor* range : map->all()) {
        for (const NodeId& node : range->voters) ++load[node];
      }
    }
    return choose_members(*members, count, avoid, load);
  }

 private:
  Result<std::shared_ptr<const RangeTable>> current() const {
    std::lock_guard lock(mutex_);
    if (!table_) return Status::unavailable("no range map installed yet");
    return table_;
  }

  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<NodeInfo>> members_;
  std::shared_ptr<const RangeTable> table_;
};

Result<std::unique_ptr<Placement>> make_range(const PluginContext&,
                                              const ConfigSection&) noexcept {
  return std::unique_ptr<Placement>(std::make_unique<RangePlacement>());
}

}  // namespace

extern const PluginDescriptor range_descriptor;
const PluginDescriptor range_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kPlacement,
    .name = "range",
    .version = "1.0.0",
    .description = "key ranges from the metadata service's range map, one Raft group each, "
                   "per-range epochs, zone-aware group members",
    .config_keys = nullptr,
    .config_key_count = 0,
    .make_placement = make_range,
};

}  // namespace tessera::range

TESSERA_EXPORT_PLUGIN(tessera::range::range_descriptor)
