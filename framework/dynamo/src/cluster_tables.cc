// QuorumRouter: table changes on every member (quorum_router.h, create_table()), and the table
// list and batches.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "quorum_router_internal.h"
#include "rpc_values.h"

namespace tessera::dynamo {

kj::Promise<Status> QuorumRouter::create_table(std::string name, std::vector<Bytes> split_keys,
                                               RequestParams request) {
  if (!split_keys.empty()) return node::refuse_split_keys(name);
  return on_every_member(std::move(name), true, request);
}

kj::Promise<Status> QuorumRouter::drop_table(std::string name, RequestParams request) {
  return on_every_member(std::move(name), false, request);
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

kj::Promise<Status> QuorumRouter::on_every_member(std::string name, bool create,
                                                  const RequestParams& request) {
  struct Outcome {
    NodeId node;
    Status status;
  };
  kj::Vector<kj::Promise<Outcome>> calls;
  calls.add(pool_
                ->run([store = store_, name, create]() {
                  return create ? store->create_table(name) : store->drop_table(name);
                })
                .then([self = self_](Status status) {
                  return Outcome{self, status};
                }));
  for (const NodeInfo& member : membership_->members()) {
    if (member.id == self_ || !is_up(member.state)) continue;
    auto send = [&](rpc::Replica::Client& replica) {
      if (create) {
        auto call = replica.createTableRequest();
        call.setName(as_text(name));
        return call.send().then([](auto r) { return from_error(r.getError()); });
      }
      auto call = replica.dropTableRequest();
      call.setName(as_text(name));
      return call.send().then([](auto r) { return from_error(r.getError()); });
    };
    calls.add(call_peer<Status>(
                  member.id, send_timeout(request), send, [](Status status) { return status; },
                  [](Status failed) { return failed; })
                  .then([node = member.id](Status status) {
                    return Outcome{node, status};
                  }));
  }
  return kj::joinPromises(calls.releaseAsArray())
      .then([create](kj::Array<Outcome> outcomes) -> Status {
        // The asked node's own answer decides the code (TableExists, NoSuchTable); a peer that
        // already had the change is fine; any other refusal is named.
        const Status& own = outcomes[0].status;
        if (!own.is_ok()) return own;
        std::string refused;
        for (size_t i = 1; i < outcomes.size(); ++i) {
          const Status& s = outcomes[i].status;
          const StatusCode done = create ? StatusCode::kTableExists : StatusCode::kNoSuchTable;
          if (s.is_ok() || s.code() == done) continue;
          refused += (refused.empty() ? "" : "; ") + outcomes[i].node + ": " + s.to_string();
        }
        if (refused.empty()) return Status::ok();
        return Status::unavailable(std::string(create ? "created" : "dropped") +
                                   " here, but not on every member: " + refused);
      });
}

}  // namespace tessera::dynamo
