#include "range_table.h"

#include <algorithm>
#include <set>
#include <string>

namespace tessera::range {
namespace {

std::string name_of(const RangeDescriptor& range) {
  return "range " + std::to_string(range.id) + " of table '" + range.range.table + "' [" +
         range.range.start + ", " + (range.range.end.empty() ? "end" : range.range.end) + ")";
}

Status check_members(const RangeDescriptor& range) {
  if (range.id == 0) return Status::invalid_argument(name_of(range) + ": id 0 is reserved");
  if (range.epoch == 0) return Status::invalid_argument(name_of(range) + ": epoch must be >= 1");
  if (range.group.empty()) return Status::invalid_argument(name_of(range) + ": no group");
  if (range.voters.empty()) return Status::invalid_argument(name_of(range) + ": no voters");
  std::set<NodeId> seen;
  for (const NodeId& node : range.voters) {
    if (!seen.insert(node).second) {
      return Status::invalid_argument(name_of(range) + ": voter '" + node + "' appears twice");
    }
  }
  for (const NodeId& node : range.learners) {
    if (!seen.insert(node).second) {
      return Status::invalid_argument(name_of(range) + ": '" + node +
                                      "' is listed twice among voters and learners");
    }
  }
  return Status::ok();
}

// REQUIRES: `ranges` sorted by start.
Status check_tiling(const std::vector<RangeDescriptor>& ranges) {
  for (size_t i = 0; i < ranges.size(); ++i) {
    const KeyRange& keys = ranges[i].range;
    if (i == 0 && !keys.start.empty()) {
      return Status::invalid_argument(name_of(ranges[i]) +
                                      ": the first range of a table must start at the empty key");
    }
    bool last = i + 1 == ranges.size();
    if (!keys.end.empty() && keys.end <= keys.start) {
      return Status::invalid_argument(name_of(ranges[i]) + ": empty or inverted bounds");
    }
    if (last && !keys.end.empty()) {
      return Status::invalid_argument(name_of(ranges[i]) +
                                      ": the last range of a table must be open-ended");
    }
    if (!last && keys.end != ranges[i + 1].range.start) {
      return Status::invalid_argument(name_of(ranges[i]) + " and " + name_of(ranges[i + 1]) +
                                      (keys.end.empty() || keys.end > ranges[i + 1].range.start
                                           ? ": overlap"
                                           : ": leave a gap"));
    }
  }
  return Status::ok();
}

bool has_member(const RangeDescriptor& range, const NodeId& node) {
  return std::find(range.voters.begin(), range.voters.end(), node) != range.voters.end() ||
         std::find(range.learners.begin(), range.learners.end(), node) != range.learners.end();
}

}  // namespace

Result<RangeTable> RangeTable::build(const RangeMap& map) {
  RangeTable table;
  table.generation_ = map.generation;
  for (const RangeDescriptor& range : map.ranges) {
    TESSERA_RETURN_IF_ERROR(check_members(range));
    table.tables_[range.range.table].push_back(range);
  }
  for (auto& [name, ranges] : table.tables_) {
    std::sort(ranges.begin(), ranges.end(), [](const RangeDescriptor& a, const RangeDescriptor& b) {
      return a.range.start < b.range.start;
    });
    TESSERA_RETURN_IF_ERROR(check_tiling(ranges));
    for (size_t i = 0; i < ranges.size(); ++i) {
      if (!table.ids_.emplace(ranges[i].id, std::make_pair(name, i)).second) {
        return Status::invalid_argument(name_of(ranges[i]) + ": its id is used by another range");
      }
    }
  }
  return table;
}

Result<const RangeDescriptor*> RangeTable::find(ByteView table, ByteView key) const {
  auto it = tables_.find(table);
  if (it == tables_.end()) {
    return Status::no_such_table("the range map (generation " + std::to_string(generation_) +
                                 ") has no ranges for table '" + std::string(table) + "'");
  }
  const std::vector<RangeDescriptor>& ranges = it->second;
  // The last range whose start is <= key; the first starts at "", so there is one.
  auto after = std::upper_bound(ranges.begin(), ranges.end(), key,
                                [](ByteView k, const RangeDescriptor& r) { return k < r.range.start; });
  return &*(after - 1);
}

Result<std::vector<const RangeDescriptor*>> RangeTable::span(ByteView table, ByteView start,
                                                             ByteView end) const {
  TESSERA_ASSIGN_OR_RETURN(const RangeDescriptor* first, find(table, start));
  std::vector<const RangeDescriptor*> out;
  if (!end.empty() && end <= start) return out;
  const std::vector<RangeDescriptor>& ranges = tables_.find(table)->second;
  for (size_t i = static_cast<size_t>(first - ranges.data()); i < ranges.size(); ++i) {
    if (!end.empty() && ranges[i].range.start >= end) break;
    out.push_back(&ranges[i]);
  }
  return out;
}

const RangeDescriptor* RangeTable::by_id(uint64_t id) const {
  auto it = ids_.find(id);
  if (it == ids_.end()) return nullptr;
  return &tables_.find(it->second.first)->second[it->second.second];
}

std::vector<const RangeDescriptor*> RangeTable::all() const {
  std::vector<const RangeDescriptor*> out;
  for (const auto& [name, ranges] : tables_) {
    for (const RangeDescriptor& range : ranges) out.push_back(&range);
  }
  return out;
}

std::vector<RangeMove> plan_moves(const RangeTable& before, const RangeTable& after) {
  std::vector<RangeMove> moves;
  for (const RangeDescriptor* next : after.all()) {
    const RangeDescriptor* prev = before.by_id(next->id);
    if (prev == nullptr) continue;
    const NodeId& source = prev->leader.empty() ? prev->voters.front() : prev->leader;
    auto add = [&](const NodeId& node) {
      if (!has_member(*prev, node)) moves.push_back(RangeMove{next->range, source, node});
    };
    for (const NodeId& node : next->voters) add(node);
    for (const NodeId& node : next->learners) add(node);
  }
  return moves;
}

Result<std::vector<NodeId>> choose_members(std::span<const NodeInfo> members, size_t count,
                                           std::span<const NodeId> avoid,
                                           const std::unordered_map<NodeId, size_t>& load) {
  std::vector<const NodeInfo*> candidates;
  for (const NodeInfo& node : members) {
    if (node.state != NodeState::kAlive) continue;
    if (std::find(avoid.begin(), avoid.end(), node.id) != avoid.end()) continue;
    candidates.push_back(&node);
  }
  if (candidates.size() < count) {
    return Status::unavailable("a group of " + std::to_string(count) + " needs " +
                               std::to_string(count) + " alive members, and only " +
                               std::to_string(candidates.size()) + " qualify");
  }
  auto load_of = [&](const NodeId& id) {
    auto it = load.find(id);
    return it == load.end() ? size_t{0} : it->second;
  };
  std::vector<NodeId> chosen;
  std::unordered_map<std::string, size_t> zone_uses;
  while (chosen.size() < count) {
    // The candidate whose zone is least used so far, then least loaded, then lowest id.
    auto best = std::min_element(candidates.begin(), candidates.end(),
                                 [&](const NodeInfo* a, const NodeInfo* b) {
                                   size_t za = zone_uses[a->zone], zb = zone_uses[b->zone];
                                   if (za != zb) return za < zb;
                                   size_t la = load_of(a->id), lb = load_of(b->id);
                                   if (la != lb) return la < lb;
                                   return a->id < b->id;
                                 });
    ++zone_uses[(*best)->zone];
    chosen.push_back((*best)->id);
    candidates.erase(best);
  }
  return chosen;
}

Location location_of(const RangeDescriptor& range) {
  Location location;
  location.range = range.range;
  location.group = range.group;
  location.range_id = range.id;
  location.epoch = range.epoch;
  bool leader_known = !range.leader.empty() &&
                      std::find(range.voters.begin(), range.voters.end(), range.leader) !=
                          range.voters.end();
  if (leader_known) location.replicas.push_back(range.leader);
  for (const NodeId& node : range.voters) {
    if (!leader_known || node != range.leader) location.replicas.push_back(node);
  }
  location.owners = location.replicas.size();
  return location;
}

}  // namespace tessera::range
