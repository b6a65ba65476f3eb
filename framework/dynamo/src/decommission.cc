// QuorumRouter: decommissioning this node (quorum_router.h, "Leaving").
//
// Copy first, then leave. For every key this node owns, its owners once this node is gone are
// its preference list without this node (the ring's next node in order takes its place), so
// the pass sends each key's versions to the owners that are new, one writeBatch per target per
// page, and fails (leaving the node a member) unless every target took every key. Then the
// node leaves the ring through its membership plugin. Writes that reached it during the pass
// are copied again once it has left: the ring's change makes this node's ranges moves to their
// new owners, which the tick loop streams (range_streaming.cc). Ownership moves only after the
// copy, and N copies are kept throughout.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "quorum_router_internal.h"
#include "rpc_values.h"

namespace tessera::dynamo {
namespace {

constexpr uint32_t kDepartureScanKeys = 256;
constexpr uint32_t kDepartureCallTimeoutMs = 10'000;

}  // namespace

kj::Promise<Result<uint64_t>> QuorumRouter::decommission() {
  KJ_IF_MAYBE(running, decommissioning_) {
    if (!decommission_failed_) return running->addBranch();
  }
  size_t on_ring = 0;
  for (const NodeInfo& member : membership_->members()) {
    if (member.state != NodeState::kLeft) ++on_ring;
  }
  Result<Location> any = placement_->locate("", "");
  if (!any.is_ok()) return Result<uint64_t>(any.status());
  if (on_ring <= any->owners) {
    return Result<uint64_t>(Status::unavailable(
        "node " + self_ + " cannot leave: the ring has " + std::to_string(on_ring) +
        " members and keeps " + std::to_string(any->owners) +
        " copies of each key (replicas); add a node first"));
  }
  spdlog::info("node {}: decommissioning: copying its keys to their next owners", self_);
  decommission_failed_ = false;
  kj::Promise<Result<uint64_t>> run =
      pool_->run([store = store_]() { return Result<std::vector<std::string>>(store->list_tables()); })
          .then([this](Result<std::vector<std::string>> tables) {
            return copy_departing_tables(std::move(tables).value(), 0, 0);
          })
          .then([this](Result<uint64_t> copied) -> kj::Promise<Result<uint64_t>> {
            if (!copied.is_ok()) return copied;
            spdlog::info("node {}: copied {} keys; leaving the ring", self_, *copied);
            return pool_->run([membership = membership_]() { return membership->leave(); })
                .then([this, copied = *copied](Status left) -> Result<uint64_t> {
                  if (!left.is_ok()) return left;
                  spdlog::info("node {}: has left the ring", self_);
                  return copied;
                });
          })
          .then([this](Result<uint64_t> done) {
            if (!done.is_ok()) {
              decommission_failed_ = true;
              spdlog::warn("node {}: decommission stopped, still a member: {}", self_,
                           done.status().to_string());
            }
            return done;
          });
  decommissioning_ = run.fork();
  KJ_IF_MAYBE(forked, decommissioning_) { return forked->addBranch(); }
  KJ_UNREACHABLE;
}

kj::Promise<Result<uint64_t>> QuorumRouter::copy_departing_tables(std::vector<std::string> tables,
                                                                  size_t index, uint64_t copied) {
  if (index == tables.size()) return Result<uint64_t>(copied);
  return copy_departing_page(tables[index], {}, copied)
      .then([this, tables = std::move(tables), index](
                Result<uint64_t> copied) mutable -> kj::Promise<Result<uint64_t>> {
        if (!copied.is_ok()) return copied;
        return copy_departing_tables(std::move(tables), index + 1, *copied);
      });
}

kj::Promise<Result<uint64_t>> QuorumRouter::copy_departing_page(std::string table, Bytes token,
                                                                uint64_t copied) {
  auto read = [store = store_, table, token]() {
    return store->scan_versions(table, {}, {}, kDepartureScanKeys, token);
  };
  return pool_->run(std::move(read))
      .then([this, table, copied](Result<StoreVersionsPage> page) -> kj::Promise<Result<uint64_t>> {
        // A table dropped meanwhile has nothing left to copy.
        if (page.status().code() == StatusCode::kNoSuchTable) return Result<uint64_t>(copied);
        if (!page.is_ok()) return Result<uint64_t>(page.status());
        // Each key to the owners it gains once this node is gone, batched per target.
        std::map<NodeId, std::vector<size_t>> per_target;
        for (size_t i = 0; i < page->items.size(); ++i) {
          Result<Location> where = placement_->locate(table, page->items[i].key);
          if (!where.is_ok()) return Result<uint64_t>(where.status());
          const auto owners_end = where->replicas.begin() + where->owners;
          if (std::find(where->replicas.begin(), owners_end, self_) == owners_end) continue;
          std::vector<NodeId> next = where->replicas;
          next.erase(std::find(next.begin(), next.end(), self_));
          next.resize(std::min(next.size(), where->owners));
          for (const NodeId& owner : next) {
            if (std::find(where->replicas.begin(), owners_end, owner) == owners_end) {
              per_target[owner].push_back(i);
            }
          }
        }
        auto items = std::make_shared<StoreVersionsPage>(std::move(page).value());
        kj::Vector<kj::Promise<Status>> sent;
        uint64_t keys = 0;
        for (auto& [target, indices] : per_target) {
          keys += indices.size();
          auto send = [&, &indices = indices](rpc::Replica::Client& replica) {
            auto call = replica.writeBatchRequest();
            auto writes = call.initWrites(indices.size());
            for (size_t j = 0; j < indices.size(); ++j) {
              const auto& item = items->items[indices[j]];
              writes[j].setTable(as_text(table));
              writes[j].setKey(as_data(item.key));
              set_versions(writes[j].initVersions(item.versions.size()), item.versions);
            }
            return call.send();
          };
          sent.add(call_peer<Status>(
              target, kDepartureCallTimeoutMs * kj::MILLISECONDS, send,
              [target = target](auto response) {
                for (auto error : response.getErrors()) {
                  Status status = from_error(error);
                  if (!status.is_ok()) {
                    return Status::unavailable("node " + target + " refused a copy: " +
                                               status.to_string());
                  }
                }
                return Status::ok();
              },
              [](Status failed) { return failed; }));
        }
        return kj::joinPromises(sent.releaseAsArray())
            .then([this, table, items, copied, keys](
                      kj::Array<Status> statuses) -> kj::Promise<Result<uint64_t>> {
              for (const Status& status : statuses) {
                if (!status.is_ok()) return Result<uint64_t>(status);
              }
              if (items->next_page_token.empty()) return Result<uint64_t>(copied + keys);
              return copy_departing_page(table, items->next_page_token, copied + keys);
            });
      });
}

}  // namespace tessera::dynamo
