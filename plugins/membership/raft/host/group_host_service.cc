#include "group_host_service.h"

#include <memory>
#include <utility>

#include "loop_completion.h"
#include "rpc_values.h"
#include "tessera/peer_service.h"

namespace tessera::raft_host {

GroupHostService::GroupHostService(std::string node_id, Membership* membership,
                                   std::vector<HostedGroup> groups,
                                   std::map<NodeId, std::string> addresses, const Leaders* leaders,
                                   kj::Timer* timer, uint32_t timeout_ms)
    : node_id_(std::move(node_id)),
      membership_(membership),
      groups_(membership->replication_groups()),
      hosted_(std::move(groups)),
      addresses_(std::move(addresses)),
      leaders_(leaders),
      timer_(timer),
      timeout_ms_(timeout_ms) {}

size_t GroupHostService::group_of(ByteView key, size_t groups) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across processes and builds
  for (char c : key) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return static_cast<size_t>(h % groups);
}

template <typename T>
kj::Promise<Result<T>> GroupHostService::within_deadline(kj::Promise<Result<T>> answer) {
  return answer.exclusiveJoin(timer_->afterDelay(timeout_ms_ * kj::MILLISECONDS).then([this]() {
    return Result<T>(
        Status::timeout("no answer from the group within " + std::to_string(timeout_ms_) + " ms"));
  }));
}

std::string GroupHostService::leader_address(const std::string& group) const {
  auto it = addresses_.find(leaders_->get(group));
  return it == addresses_.end() ? std::string() : it->second;
}

void GroupHostService::set_error(rpc::Error::Builder error, const Status& status,
                                 const std::string& group) const {
  write_error(error, status);
  // The plugin's hint is a node id; a client wants an address.
  if (status.code() == StatusCode::kNotLeader) error.setLeaderHint(leader_address(group));
}

kj::Promise<void> GroupHostService::hello(HelloContext context) {
  context.getResults().setApiVersion(1);
  context.getResults().setNodeId(node_id_);
  return kj::READY_NOW;
}

kj::Promise<void> GroupHostService::createTable(CreateTableContext context) {
  set_error(context.getResults().initError(), Status::ok(), "");
  return kj::READY_NOW;
}

kj::Promise<void> GroupHostService::write(WriteContext context) {
  set_error(context.getResults().initError(),
            Status::not_supported("tessera-raft-host takes single puts, no batches"), "");
  return kj::READY_NOW;
}

kj::Promise<void> GroupHostService::put(PutContext context) {
  auto params = context.getParams();
  const Bytes key = to_bytes(params.getKey());
  const HostedGroup& group = hosted_[group_of(key, hosted_.size())];
  auto [promise, done] = loop_completion<Bytes>();
  groups_->propose(group.name, KvStateMachine::encode_put(key, to_bytes(params.getValue())),
                   std::move(done));
  return within_deadline(kj::mv(promise))
      .then([this, context, name = group.name](Result<Bytes> result) mutable {
        set_error(context.getResults().initError(), result.status(), name);
      });
}

kj::Promise<Result<LogIndex>> GroupHostService::read_barrier(const std::string& group) {
  auto [promise, done] = loop_completion<LogIndex>();
  groups_->read_barrier(group, std::move(done));
  return within_deadline(kj::mv(promise));
}

kj::Promise<Result<LogIndex>> GroupHostService::read_now() {
  return kj::Promise<Result<LogIndex>>(Result<LogIndex>(LogIndex{0}));
}

kj::Promise<void> GroupHostService::get(GetContext context) {
  const Bytes key = to_bytes(context.getParams().getKey());
  const HostedGroup& group = hosted_[group_of(key, hosted_.size())];
  const bool stale = context.getParams().getOptions().getConsistency() == rpc::Consistency::STALE;
  kj::Promise<Result<LogIndex>> read_point = stale ? read_now() : read_barrier(group.name);
  return read_point.then([this, context, key, group](Result<LogIndex> barrier) mutable {
    auto results = context.getResults();
    if (!barrier.is_ok()) {
      set_error(results.initError(), barrier.status(), group.name);
      return;
    }
    // The barrier completes once this replica has applied the read point, so a local read
    // sees every write committed before the get. A stale read skips it: whatever this replica
    // has applied.
    Result<std::optional<Bytes>> value = group.state->get(key);
    if (!value.is_ok()) {
      set_error(results.initError(), value.status(), group.name);
      return;
    }
    set_error(results.initError(), Status::ok(), group.name);
    results.setFound(value->has_value());
    if (!*value) return;
    auto values = results.initValues(1);
    values[0].setData(as_data(**value));
  });
}

kj::Promise<void> GroupHostService::peer(PeerContext context) {
  auto name = context.getParams().getName();
  auto results = context.getResults();
  PeerService* service = membership_->peer_service(std::string_view(name.cStr(), name.size()));
  if (service == nullptr) {
    set_error(results.initError(),
              Status::not_found("no peer service named '" + std::string(name.cStr()) + "'"), "");
    return kj::READY_NOW;
  }
  set_error(results.initError(), Status::ok(), "");
  results.setService(service->capability());
  return kj::READY_NOW;
}

}  // namespace tessera::raft_host
