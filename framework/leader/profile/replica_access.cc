#include "replica_access.h"

#include <random>
#include <set>

namespace tessera::leader {
namespace {

Status not_hosted(const Location& where, const NodeId& self) {
  return Status::stale_route("node " + self + " hosts no replica of range " +
                                 std::to_string(where.range_id) + " (group " + where.group + ")",
                             where.epoch);
}

// A group name never used before: a table dropped and created again gets new groups, and the
// raft plugin refuses to found a group a node ever had.
std::string new_group_name() {
  std::random_device random;
  const uint64_t id = (uint64_t{random()} << 32) ^ random();
  char text[24];
  std::snprintf(text, sizeof(text), "r%016llx", static_cast<unsigned long long>(id));
  return text;
}

}  // namespace

kj::Promise<Result<LogIndex>> ReplicaAccess::read_point(const std::string& group, bool stale) {
  if (stale) return Result<LogIndex>(LogIndex{0});
  auto [promise, done] = loop_completion<LogIndex>();
  groups_->read_barrier(group, std::move(done));
  return kj::mv(promise);
}

kj::Promise<Result<Bytes>> ReplicaAccess::write(const Location& where,
                                                std::vector<RangeWriteOp> writes) {
  if (replicas_->range(where.range_id) == nullptr) {
    return Result<Bytes>(not_hosted(where, replicas_->self().id));
  }
  Result<Bytes> proposed = conflict_->new_version(replicas_->self().id, {});
  if (!proposed.is_ok()) return Result<Bytes>(proposed.status());
  auto [promise, done] = loop_completion<Bytes>();
  groups_->propose(where.group, encode_write(where.range_id, where.epoch, *proposed, writes),
                   std::move(done));
  return promise.then([](Result<Bytes> applied) -> Result<Bytes> {
    if (!applied.is_ok()) return applied.status();
    return decode_range_result(*applied);
  });
}

kj::Promise<Result<std::optional<StoredValue>>> ReplicaAccess::get(const Location& where,
                                                                   Bytes key, bool stale) {
  using R = Result<std::optional<StoredValue>>;
  if (replicas_->range(where.range_id) == nullptr) {
    return R(not_hosted(where, replicas_->self().id));
  }
  return read_point(where.group, stale)
      .then([this, range_id = where.range_id, key = std::move(key)](Result<LogIndex> at) -> R {
        if (!at.is_ok()) return at.status();
        // Looked up again: the range may have been closed while the barrier ran.
        RangeStateMachine* state = replicas_->range(range_id);
        if (state == nullptr) return Status::unavailable("range closed during the read");
        return state->get(key);
      });
}

kj::Promise<Result<ScanPage>> ReplicaAccess::scan(const Location& where, Bytes start, Bytes end,
                                                  uint32_t limit, bool stale) {
  using R = Result<ScanPage>;
  if (replicas_->range(where.range_id) == nullptr) {
    return R(not_hosted(where, replicas_->self().id));
  }
  return read_point(where.group, stale)
      .then([this, range_id = where.range_id, start = std::move(start), end = std::move(end),
             limit](Result<LogIndex> at) -> R {
        if (!at.is_ok()) return at.status();
        RangeStateMachine* state = replicas_->range(range_id);
        if (state == nullptr) return Status::unavailable("range closed during the scan");
        return state->scan(start, end, limit);
      });
}

kj::Promise<Status> ReplicaAccess::propose_metadata(Bytes command) {
  auto [promise, done] = loop_completion<Bytes>();
  groups_->propose(kMetadataGroup, std::move(command), std::move(done));
  return promise.then([](Result<Bytes> applied) -> Status {
    if (!applied.is_ok()) return applied.status();
    return decode_result(*applied).status;
  });
}

kj::Promise<Status> ReplicaAccess::create_table(std::string name, std::vector<Bytes> split_keys) {
  // Voters for each range: spread over zones, least loaded first.
  Result<std::vector<NodeId>> voters = replicas_->choose_voters(replicas_per_range_);
  if (!voters.is_ok()) return voters.status();
  std::vector<TableRange> ranges = {{"", new_group_name(), *voters}};
  for (Bytes& key : split_keys) ranges.push_back({std::move(key), new_group_name(), *voters});
  // The metadata checks the order of the keys.
  return propose_metadata(encode_create_table(name, ranges));
}

kj::Promise<Status> ReplicaAccess::drop_table(std::string name) {
  return propose_metadata(encode_drop_table(name));
}

Result<std::vector<std::string>> ReplicaAccess::list_tables() const {
  TESSERA_ASSIGN_OR_RETURN(RangeMap map, replicas_->metadata().range_map());
  std::set<std::string> names;
  for (const RangeDescriptor& range : map.ranges) names.insert(range.range.table);
  return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace tessera::leader
