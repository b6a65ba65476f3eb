#include "leader_router.h"

#include <algorithm>
#include <set>

#include "rpc_values.h"

namespace tessera::leader {
namespace {

// The answer of a call that has nothing but its status.
struct Done {};

Result<Done> as_result(const Status& status) {
  if (status.is_ok()) return Done{};
  return status;
}

// Whether a refusal says the request reached the wrong place, so that another try may succeed.
// NoSuchTable only while `table_wait` lasts.
bool retryable(const Status& status, bool table_wait) {
  switch (status.code()) {
    case StatusCode::kNotLeader:
    case StatusCode::kStaleRoute:
    case StatusCode::kUnavailable:
    case StatusCode::kBusy:
      return true;
    case StatusCode::kNoSuchTable:
      return table_wait;
    default:
      return false;
  }
}

bool contains(const std::vector<NodeId>& nodes, const NodeId& node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

void set_options(rpc::RequestOptions::Builder options, uint32_t timeout_ms,
                 rpc::Consistency consistency) {
  options.setTimeoutMs(timeout_ms);
  options.setConsistency(consistency);
}

// Tries of NoSuchTable: with the backoff doubling from 5 ms to 200 ms, about kTableWaitMs.
constexpr uint32_t kTableTries = 14;

}  // namespace

kj::TimePoint LeaderRouter::deadline_of(const node::RequestParams& params) const {
  return timer_.now() + params.timeout_ms * kj::MILLISECONDS;
}

uint32_t LeaderRouter::remaining_ms(kj::TimePoint deadline) const {
  const kj::TimePoint now = timer_.now();
  if (now >= deadline) return 0;
  return static_cast<uint32_t>((deadline - now) / kj::MILLISECONDS);
}

Location LeaderRouter::metadata_location() const {
  Location where;
  where.group = kMetadataGroup;
  for (const NodeInfo& voter : replicas_->metadata_voters()) where.replicas.push_back(voter.id);
  where.owners = where.replicas.size();
  return where;
}

std::function<Result<Location>()> LeaderRouter::key_locator(std::string table, Bytes key) const {
  return [placement = placement_, table = std::move(table), key = std::move(key)]() {
    return placement->locate(table, key);
  };
}

NodeId LeaderRouter::choose_target(const Location& where, const NodeId& hint,
                                   uint32_t tries) const {
  const NodeId& self = replicas_->self().id;
  if (!forward_ || where.replicas.empty()) return self;
  if (!hint.empty() && contains(where.replicas, hint)) return hint;
  if (tries == 0) {
    // This node's own replica knows the leader best; then the map's last known leader (first).
    NodeId leader = leaders_->get(where.group);
    if (!leader.empty() && contains(where.replicas, leader)) return leader;
    if (contains(where.replicas, self)) return self;
  }
  return where.replicas[tries % where.replicas.size()];
}

template <typename T>
kj::Promise<Result<T>> LeaderRouter::route(std::function<Result<Location>()> locate,
                                           kj::TimePoint deadline, bool write, Try<T> attempt,
                                           uint32_t tries, NodeId hint) {
  // Another try after `why`, if the deadline leaves room for the backoff and one more attempt.
  auto again = [this, locate, deadline, write, attempt, tries](
                   Status why, NodeId next) mutable -> kj::Promise<Result<T>> {
    const uint32_t backoff = std::min(kBackoffMaxMs, kBackoffFirstMs << std::min(tries, 6u));
    if (!forward_ || !retryable(why, tries < kTableTries) || remaining_ms(deadline) <= 2 * backoff) {
      return Result<T>(std::move(why));
    }
    if (why.code() == StatusCode::kStaleRoute || why.code() == StatusCode::kNoSuchTable) {
      (void)replicas_->refresh();
    }
    return timer_.afterDelay(backoff * kj::MILLISECONDS)
        .then([this, locate = std::move(locate), deadline, write, attempt = std::move(attempt),
               tries, next = std::move(next)]() mutable {
          return route<T>(std::move(locate), deadline, write, std::move(attempt), tries + 1,
                          std::move(next));
        });
  };
  Result<Location> where = locate();
  if (!where.is_ok()) return again(where.status(), {});
  Attempt a{*where, choose_target(*where, hint, tries), remaining_ms(deadline)};
  if (a.target != replicas_->self().id) a.timeout_ms = std::min(a.timeout_ms, kAttemptMaxMs);
  return attempt(a).then(
      [again = std::move(again)](Result<T> result) mutable -> kj::Promise<Result<T>> {
        if (result.is_ok()) return kj::mv(result);
        NodeId next;
        if (result.status().code() == StatusCode::kNotLeader) {
          next = result.status().detail().leader_hint;
        }
        return again(result.status(), std::move(next));
      });
}

template <typename T, typename Send, typename Reply>
kj::Promise<Result<T>> LeaderRouter::call(const Attempt& attempt, bool write, Send send,
                                          Reply reply) {
  PeerLinks::Link link = links_->link(attempt.target);
  std::shared_ptr<PeerLinks::Connection> connection = link.connection;
  const NodeId target = attempt.target;
  auto unsent = [connection]() { return connection == nullptr || !connection->connected; };
  kj::Promise<Result<T>> answered =
      send(link.client)
          .then([reply = kj::mv(reply)](auto&& response) mutable -> Result<T> {
            return reply(response);
          })
          .catch_([this, target, connection, write, unsent](kj::Exception&& e) -> Result<T> {
            const bool never_left = unsent();
            links_->forget(target, connection.get());
            std::string what = "node " + target + ": " + e.getDescription().cStr();
            if (write && !never_left) {
              return Status::timeout(what + "; the write may or may not have been applied");
            }
            return Status::unavailable(what);
          });
  const uint32_t timeout_ms = attempt.timeout_ms;
  return answered
      .exclusiveJoin(timer_.afterDelay(timeout_ms * kj::MILLISECONDS)
                         .then([this, target, connection, write, unsent, timeout_ms]() -> Result<T> {
                           std::string what = "node " + target + " did not answer within " +
                                              std::to_string(timeout_ms) + " ms";
                           if (unsent()) {
                             links_->forget(target, connection.get());
                             return Status::unavailable(what + " (not connected)");
                           }
                           if (write) {
                             return Status::timeout(what +
                                                    "; the write may or may not have been applied");
                           }
                           return Status::unavailable(what);
                         }))
      .attach(kj::mv(connection));
}

kj::Promise<Result<std::vector<std::string>>> LeaderRouter::list_tables(node::RequestParams) {
  return access_->list_tables();
}

kj::Promise<Status> LeaderRouter::create_table(std::string name, std::vector<Bytes> split_keys,
                                               node::RequestParams params) {
  return change_table(std::move(name), true, std::move(split_keys), params);
}

kj::Promise<Status> LeaderRouter::drop_table(std::string name, node::RequestParams params) {
  return change_table(std::move(name), false, {}, params);
}

kj::Promise<Status> LeaderRouter::change_table(std::string name, bool create,
                                               std::vector<Bytes> split_keys,
                                               const node::RequestParams& params) {
  const kj::TimePoint deadline = deadline_of(params);
  Try<Done> attempt = [this, name, create, split_keys](const Attempt& a)
      -> kj::Promise<Result<Done>> {
    if (a.target == replicas_->self().id) {
      return (create ? access_->create_table(name, split_keys) : access_->drop_table(name))
          .then([](Status s) { return as_result(s); });
    }
    auto send = [&](rpc::Tessera::Client& client) {
      if (create) {
        auto request = client.createTableRequest();
        request.setName(name);
        auto keys = request.initSplitKeys(static_cast<unsigned>(split_keys.size()));
        for (size_t i = 0; i < split_keys.size(); ++i) keys.set(static_cast<unsigned>(i), as_data(split_keys[i]));
        set_options(request.initOptions(), a.timeout_ms, rpc::Consistency::DEFAULT);
        return request.send().then([](auto response) { return read_error(response.getError()); });
      }
      auto request = client.dropTableRequest();
      request.setName(name);
      set_options(request.initOptions(), a.timeout_ms, rpc::Consistency::DEFAULT);
      return request.send().then([](auto response) { return read_error(response.getError()); });
    };
    return call<Done>(a, true, send, [](Status& status) { return as_result(status); });
  };
  return route<Done>([this]() { return Result<Location>(metadata_location()); }, deadline, true,
                     std::move(attempt))
      .then([this, name, create, deadline](Result<Done> done) -> kj::Promise<Status> {
        if (!done.is_ok()) return done.status();
        return await_table(name, create, deadline);
      });
}

kj::Promise<Status> LeaderRouter::await_table(std::string name, bool present,
                                              kj::TimePoint deadline) {
  (void)replicas_->refresh();
  Result<Location> where = placement_->locate(name, "");
  const bool there = where.is_ok() || where.status().code() != StatusCode::kNoSuchTable;
  if (there == present || !forward_) return Status::ok();
  if (remaining_ms(deadline) <= kBackoffFirstMs) {
    // Committed, but this node's map has not caught up yet: requests here wait for it.
    return Status::ok();
  }
  return timer_.afterDelay(kBackoffFirstMs * kj::MILLISECONDS)
      .then([this, name = std::move(name), present, deadline]() mutable {
        return await_table(std::move(name), present, deadline);
      });
}

kj::Promise<Result<Bytes>> LeaderRouter::write_keys(std::string table,
                                                    std::vector<RangeWriteOp> writes,
                                                    node::RequestParams params) {
  for (const RangeWriteOp& op : writes) {
    Status fits = store_->check_key(op.key);
    if (fits.is_ok() && op.value) fits = store_->check_value(op.value->size());
    if (!fits.is_ok()) return Result<Bytes>(fits);
  }
  if (writes.empty()) return Result<Bytes>(Bytes());
  // Every key of a batch in one range: its atomicity is that of one command in one log.
  auto locate = [placement = placement_, table, writes]() -> Result<Location> {
    TESSERA_ASSIGN_OR_RETURN(Location first, placement->locate(table, writes[0].key));
    for (size_t i = 1; i < writes.size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(Location at, placement->locate(table, writes[i].key));
      if (at.range_id != first.range_id) {
        return Status::invalid_argument(
            "the batch's keys lie in ranges " + std::to_string(first.range_id) + " and " +
            std::to_string(at.range_id) + " of table " + table +
            ": a batch is atomic within one range; write the ranges' keys in separate batches");
      }
    }
    return first;
  };
  Try<Bytes> attempt = [this, table, writes](const Attempt& a) -> kj::Promise<Result<Bytes>> {
    if (a.target == replicas_->self().id) return access_->write(a.where, writes);
    return call<Bytes>(
        a, true,
        [&](rpc::Tessera::Client& client) {
          auto request = client.writeRequest();
          request.setTable(table);
          auto ops = request.initOps(static_cast<unsigned>(writes.size()));
          for (size_t i = 0; i < writes.size(); ++i) {
            ops[i].setKey(as_data(writes[i].key));
            if (writes[i].value) {
              ops[i].setPut(as_data(*writes[i].value));
            } else {
              ops[i].setRemove();
            }
          }
          set_options(request.initOptions(), a.timeout_ms, rpc::Consistency::DEFAULT);
          return request.send();
        },
        [](auto& response) -> Result<Bytes> {
          Status status = read_error(response.getError());
          if (!status.is_ok()) return status;
          return Bytes();
        });
  };
  return route<Bytes>(std::move(locate), deadline_of(params), true, std::move(attempt));
}

kj::Promise<Result<Bytes>> LeaderRouter::put(std::string table, Bytes key, Bytes value,
                                             node::RequestParams params) {
  std::vector<RangeWriteOp> writes;
  writes.push_back({std::move(key), std::move(value)});
  return write_keys(std::move(table), std::move(writes), std::move(params));
}

kj::Promise<Status> LeaderRouter::remove(std::string table, Bytes key, node::RequestParams params) {
  std::vector<RangeWriteOp> writes;
  writes.push_back({std::move(key), std::nullopt});
  return write_keys(std::move(table), std::move(writes), std::move(params))
      .then([](Result<Bytes> result) { return result.is_ok() ? Status::ok() : result.status(); });
}

kj::Promise<Status> LeaderRouter::write(std::string table, std::vector<Mutation> mutations,
                                        node::RequestParams params) {
  std::vector<RangeWriteOp> writes;
  writes.reserve(mutations.size());
  for (Mutation& m : mutations) writes.push_back({std::move(m.key), std::move(m.value)});
  return write_keys(std::move(table), std::move(writes), std::move(params))
      .then([](Result<Bytes> result) { return result.is_ok() ? Status::ok() : result.status(); });
}

kj::Promise<Result<node::StoreGetResult>> LeaderRouter::get(std::string table, Bytes key,
                                                            node::RequestParams params) {
  using R = node::StoreGetResult;
  if (Status fits = store_->check_key(key); !fits.is_ok()) return Result<R>(fits);
  const rpc::Consistency consistency = params.consistency;
  const bool stale = consistency == rpc::Consistency::STALE;
  Try<R> attempt = [this, table, key, stale, consistency](const Attempt& a)
      -> kj::Promise<Result<R>> {
    // A stale read is served by this node's replica when it has one.
    const bool local = a.target == replicas_->self().id ||
                       (stale && replicas_->range(a.where.range_id) != nullptr);
    if (local) {
      return access_->get(a.where, key, stale)
          .then([](Result<std::optional<StoredValue>> found) -> Result<R> {
            if (!found.is_ok()) return found.status();
            R answer;
            if (*found) answer.values.push_back({(*found)->version, false, (*found)->value});
            return answer;
          });
    }
    return call<R>(
        a, false,
        [&](rpc::Tessera::Client& client) {
          auto request = client.getRequest();
          request.setTable(table);
          request.setKey(as_data(key));
          set_options(request.initOptions(), a.timeout_ms, consistency);
          return request.send();
        },
        [](auto& response) -> Result<R> {
          Status status = read_error(response.getError());
          if (!status.is_ok()) return status;
          R answer;
          for (auto value : response.getValues()) {
            answer.values.push_back({to_bytes(value.getVersion()), false, to_bytes(value.getData())});
          }
          return answer;
        });
  };
  return route<R>(key_locator(std::move(table), std::move(key)), deadline_of(params), false,
                  std::move(attempt));
}

kj::Promise<Result<node::StoreScanPage>> LeaderRouter::scan(std::string table, Bytes start,
                                                            Bytes end, uint32_t limit,
                                                            Bytes page_token,
                                                            node::RequestParams params) {
  using R = node::StoreScanPage;
  // A page token is the key the next page starts at.
  Bytes from = std::max(start, page_token);
  if (!end.empty() && from >= end) return Result<R>(R{});
  const rpc::Consistency consistency = params.consistency;
  const bool stale = consistency == rpc::Consistency::STALE;
  Try<R> attempt = [this, table, from, end, limit, stale, consistency](const Attempt& a)
      -> kj::Promise<Result<R>> {
    // This range's part of [from, end), and where the next range starts if the scan goes on.
    const Bytes& range_end = a.where.range.end;
    const bool continues = !range_end.empty() && (end.empty() || range_end < end);
    Bytes until = continues ? range_end : end;
    auto finish = [continues, range_end](R page) {
      if (page.next_page_token.empty() && continues) page.next_page_token = range_end;
      return page;
    };
    const bool local = a.target == replicas_->self().id ||
                       (stale && replicas_->range(a.where.range_id) != nullptr);
    if (local) {
      return access_->scan(a.where, from, until, limit, stale)
          .then([finish](Result<ScanPage> page) -> Result<R> {
            if (!page.is_ok()) return page.status();
            R out;
            for (ScanItem& item : page->items) {
              out.items.push_back({std::move(item.key), std::move(item.value.value),
                                   std::move(item.value.version)});
            }
            if (page->next_key) out.next_page_token = *page->next_key;
            return finish(std::move(out));
          });
    }
    return call<R>(
        a, false,
        [&](rpc::Tessera::Client& client) {
          auto request = client.scanRequest();
          request.setTable(table);
          request.setStart(as_data(from));
          request.setEnd(as_data(until));
          request.setLimit(limit);
          set_options(request.initOptions(), a.timeout_ms, consistency);
          return request.send();
        },
        [finish](auto& response) -> Result<R> {
          Status status = read_error(response.getError());
          if (!status.is_ok()) return status;
          R out;
          for (auto item : response.getItems()) {
            out.items.push_back(
                {to_bytes(item.getKey()), to_bytes(item.getValue()), to_bytes(item.getVersion())});
          }
          out.next_page_token = to_bytes(response.getNextPageToken());
          return finish(std::move(out));
        });
  };
  return route<R>(key_locator(std::move(table), from), deadline_of(params), false,
                  std::move(attempt));
}

}  // namespace tessera::leader
