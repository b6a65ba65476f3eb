// QuorumRouter: tables as cluster state (quorum_router.h, "Tables"; table_states.h), and the
// table list and batches.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "quorum_router_internal.h"
#include "rpc_values.h"
#include "table_states_rpc.h"

namespace tessera::dynamo {

kj::Promise<Status> QuorumRouter::create_table(std::string name, std::vector<Bytes> split_keys,
                                               RequestParams request) {
  if (!split_keys.empty()) return node::refuse_split_keys(name);
  return change_table(std::move(name), true, request);
}

kj::Promise<Status> QuorumRouter::drop_table(std::string name, RequestParams request) {
  return change_table(std::move(name), false, request);
}

kj::Promise<Result<std::vector<std::string>>> QuorumRouter::list_tables(RequestParams) {
  return pool_->run(
      [store = store_]() { return Result<std::vector<std::string>>(store->list_tables()); });
}

kj::Promise<Status> QuorumRouter::write(std::string, std::vector<Mutation>, RequestParams) {
  return Status::not_supported(
      "atomic batches are not offered by the AP profile: keys of one batch live on different "
      "replicas; write them one by one");
}

kj::Promise<Status> QuorumRouter::change_table(std::string name, bool create,
                                               const RequestParams& request) {
  auto change = [tables = tables_, name, create]() {
    return create ? tables->create(name) : tables->drop(name);
  };
  const kj::Duration timeout = send_timeout(request);
  return pool_->run(std::move(change))
      .then([this, name, create, timeout](Status changed) -> kj::Promise<Status> {
        if (!changed.is_ok()) return changed;
        // Made here, so it reaches every member by exchange; the answer waits (within the
        // deadline) for those believed up now, so that they serve the table at once.
        kj::Vector<kj::Promise<Status>> told;
        std::vector<NodeId> members;
        for (const NodeInfo& member : membership_->members()) {
          if (member.id == self_ || !is_up(member.state)) continue;
          members.push_back(member.id);
          told.add(exchange_tables(member.id, timeout));
        }
        return kj::joinPromises(told.releaseAsArray())
            .then([this, name, create, members](kj::Array<Status> statuses) {
              std::string missed;
              for (size_t i = 0; i < statuses.size(); ++i) {
                if (statuses[i].is_ok()) continue;
                missed += (missed.empty() ? "" : "; ") + statuses[i].to_string();
              }
              if (!missed.empty()) {
                spdlog::warn("node {}: {} table {}; members not told yet, who learn it by a "
                             "later exchange: {}",
                             self_, create ? "created" : "dropped", name, missed);
              }
              return Status::ok();
            });
      });
}

kj::Promise<Status> QuorumRouter::exchange_tables(const NodeId& node, kj::Duration timeout) {
  const std::vector<TableState> known = tables_->states();
  auto send = [&](rpc::Replica::Client& replica) {
    auto call = replica.exchangeTablesRequest();
    set_table_states(call.initStates(known.size()), known);
    return call.send();
  };
  using States = Result<std::vector<TableState>>;
  return call_peer<States>(
             node, timeout, send,
             [node](auto response) -> States {
               auto states = response.getStates();
               if (states.size() > kTableStatesPerExchangeMax) {
                 return Status::invalid_argument("node " + node + " answered " +
                                                 std::to_string(states.size()) +
                                                 " table states, over the limit of " +
                                                 std::to_string(kTableStatesPerExchangeMax));
               }
               // Its view, taken even when a store error stopped its own merge partway.
               return to_table_states(states);
             },
             [](Status failed) { return States(failed); })
      .then([this, node](States states) -> kj::Promise<Status> {
        if (!states.is_ok()) return states.status();
        return pool_
            ->run([tables = tables_, states = std::move(states).value()]() {
              return tables->merge(states);
            })
            .then([this, node](Result<size_t> taken) {
              if (taken.is_ok() && *taken > 0) {
                spdlog::info("node {}: took {} table change(s) from {}", self_, *taken, node);
              }
              return taken.status();
            });
      });
}

kj::Promise<void> QuorumRouter::exchange_tables_periodically() {
  return timer_.afterDelay(kTableExchangeIntervalMs * kj::MILLISECONDS).then([this]() {
    std::vector<NodeId> up;
    for (const NodeInfo& member : membership_->members()) {
      if (member.id != self_ && is_up(member.state)) up.push_back(member.id);
    }
    if (up.empty()) return exchange_tables_periodically();
    const NodeId peer = up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(random_)];
    return exchange_tables(peer, kTableExchangeIntervalMs * kj::MILLISECONDS)
        .then([](Status) {})  // a failed exchange is tried again with the next member
        .then([this]() { return exchange_tables_periodically(); });
  });
}

}  // namespace tessera::dynamo
