#include "tessera/server/quorum_router.h"

#include <capnp/rpc-twoparty.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <variant>

#include "rpc_values.h"
#include "tessera/server/stored_value.h"

namespace tessera::server {
namespace {

// Sends that fail are counted by the coordinator; nothing else should reach the task set.
class LogErrors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&& e) override {
    spdlog::warn("quorum router: {}", e.getDescription().cStr());
  }
};
LogErrors log_errors;  // stateless

// Whom requests are sent to. A suspect may well be alive (SWIM suspects before it convicts),
// and a dead one fails fast: only dead and left members are passed over.
bool is_up(NodeState state) { return state == NodeState::kAlive || state == NodeState::kSuspect; }

// R or W for `request` on a key with `owners` home replicas.
uint32_t quorum_size(const QuorumRequest& request, bool read, uint32_t configured, size_t owners) {
  const uint32_t explicit_size = read ? request.read_quorum : request.write_quorum;
  if (explicit_size != 0) return explicit_size;
  switch (request.consistency) {
    case rpc::Consistency::ONE:
      return 1;
    case rpc::Consistency::QUORUM:
      return static_cast<uint32_t>(owners / 2 + 1);
    case rpc::Consistency::ALL:
      return static_cast<uint32_t>(owners);
    default:
      return std::min<uint32_t>(configured, static_cast<uint32_t>(owners));
  }
}

}  // namespace

struct QuorumRouter::Pending {
  quorum::Coordinator coordinator;
  std::string table;
  Bytes key;
  std::vector<VersionedValue> payload;  // a write's versions
  kj::Own<kj::PromiseFulfiller<quorum::Answer>> fulfiller;
};

// One connection to a peer: the stream and the RPC system over it, kept for as long as the
// peer's Replica client is used (shared with the connect continuation).
struct QuorumRouter::PeerLink {
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyClient> rpc;
};

struct QuorumRouter::Peer {
  std::string address;
  std::shared_ptr<PeerLink> link;
  rpc::Replica::Client client;
};

QuorumRouter::QuorumRouter(NodeId self, LocalStore* store, WorkerPool* pool, Conflict* conflict,
                           Placement* placement, Membership* membership, kj::Timer& timer,
                           kj::Network& network, QuorumOptions options)
    : self_(std::move(self)),
      store_(store),
      pool_(pool),
      conflict_(conflict),
      placement_(placement),
      membership_(membership),
      timer_(timer),
      network_(network),
      options_(options),
      tasks_(kj::heap<kj::TaskSet>(log_errors)),
      ticking_(tick_loop().eagerlyEvaluate(nullptr)),
      handing_over_(hand_over_hints().eagerlyEvaluate([](kj::Exception&& e) {
        spdlog::error("hinted handoff stopped: {}", e.getDescription().cStr());
      })) {}

QuorumRouter::~QuorumRouter() = default;

kj::Promise<void> QuorumRouter::hand_over_hints() {
  return timer_.afterDelay(kHintRoundIntervalMs * kj::MILLISECONDS)
      .then([this]() {
        return pool_->run([store = store_, cursor = hint_cursor_]() {
          return store->hints(cursor, kHintsPerRound);
        });
      })
      .then([this](Result<HintPage> page) -> kj::Promise<void> {
        if (!page.is_ok()) {
          spdlog::warn("hinted handoff: {}", page.status().to_string());
          return kj::READY_NOW;
        }
        hint_cursor_ = page->next_cursor;
        std::vector<NodeId> alive;
        for (const NodeInfo& member : membership_->members()) {
          if (is_up(member.state) && member.id != self_) alive.push_back(member.id);
        }
        kj::Vector<kj::Promise<void>> handovers;
        for (Hint& hint : page->hints) {
          if (std::find(alive.begin(), alive.end(), hint.owner) == alive.end()) continue;
          handovers.add(hand_over(std::move(hint)));
        }
        return kj::joinPromises(handovers.releaseAsArray());
      })
      .catch_([](kj::Exception&& e) {
        spdlog::warn("hinted handoff round failed: {}", e.getDescription().cStr());
      })
      .then([this]() { return hand_over_hints(); });
}

kj::Promise<void> QuorumRouter::hand_over(Hint hint) {
  auto send = [&](rpc::Replica::Client& replica) {
    auto call = replica.writeRequest();
    call.setTable(as_text(hint.table));
    call.setKey(as_data(hint.key));
    set_versions(call.initVersions(hint.versions.size()), hint.versions);
    return call.send();
  };
  const NodeId owner = hint.owner;
  kj::Promise<Status> delivered = call_peer<Status>(
      owner, kHintRoundIntervalMs * kj::MILLISECONDS, send,
      [](auto response) { return from_error(response.getError()); },
      [](Status failed) { return failed; });
  return delivered.then([this, hint = std::move(hint)](Status status) mutable -> kj::Promise<void> {
    if (status.code() == StatusCode::kNoSuchTable) return owner_lacks_table(std::move(hint));
    if (!status.is_ok()) return kj::READY_NOW;  // tried again in a later round
    return pool_->run([store = store_, hint = std::move(hint)]() { return store->drop_hint(hint); })
        .then([](Status dropped) {
          if (!dropped.is_ok()) spdlog::warn("hinted handoff: {}", dropped.to_string());
        });
  });
}

kj::Promise<void> QuorumRouter::owner_lacks_table(Hint hint) {
  // Dropped here too: nothing is owed. Still here: the owner missed the table's creation
  // (it was down); create it there and hand the hint over in a later round.
  const std::optional<bool> here = store_->has_table_now(hint.table);
  if (!here) return kj::READY_NOW;  // the catalog is changing: ask again next round
  if (!*here) {
    return pool_->run([store = store_, hint = std::move(hint)]() { return store->drop_hint(hint); })
        .then([](Status) {});
  }
  auto send = [&](rpc::Replica::Client& replica) {
    auto call = replica.createTableRequest();
    call.setName(as_text(hint.table));
    return call.send();
  };
  return call_peer<Status>(
             hint.owner, kHintRoundIntervalMs * kj::MILLISECONDS, send,
             [](auto response) { return from_error(response.getError()); },
             [](Status failed) { return failed; })
      .then([owner = hint.owner, table = hint.table](Status created) {
        if (created.is_ok()) spdlog::info("created table {} on {}, which missed it", table, owner);
      });
}

kj::Promise<void> QuorumRouter::tick_loop() {
  return timer_.afterDelay(options_.tick_ms * kj::MILLISECONDS).then([this]() {
    std::vector<uint64_t> ids;
    for (auto& [id, pending] : pending_) {
      pending->coordinator.tick();
      ids.push_back(id);
    }
    for (uint64_t id : ids) handle_effects(id);
    return tick_loop();
  });
}

Result<quorum::Request> QuorumRouter::make_request(quorum::Operation operation, ByteView table,
                                                   ByteView key,
                                                   const QuorumRequest& request) const {
  if (pending_.size() >= options_.requests_in_flight_max) {
    return Status::busy("over " + std::to_string(options_.requests_in_flight_max) +
                        " requests in flight (requests_in_flight_max); retry later");
  }
  // Here rather than from every replica, which would only say that too few of them answered.
  if (store_->has_table_now(std::string_view(table)) == false) {
    return Status::no_such_table("table \"" + std::string(table) + "\" does not exist");
  }
  TESSERA_ASSIGN_OR_RETURN(Location location, placement_->locate(table, key));
  const std::vector<NodeInfo> view = membership_->members();
  quorum::Request out;
  out.operation = operation;
  out.owners = location.owners;
  for (const NodeId& node : location.replicas) {
    auto it = std::find_if(view.begin(), view.end(),
                           [&](const NodeInfo& info) { return info.id == node; });
    out.up.push_back(node == self_ || (it != view.end() && is_up(it->state)));
  }
  out.replicas = std::move(location.replicas);
  const bool read = operation == quorum::Operation::kRead;
  out.required =
      quorum_size(request, read, read ? options_.read_quorum : options_.write_quorum, out.owners);
  if (out.required > out.owners) {
    return Status::invalid_argument(std::string(read ? "R" : "W") + " = " +
                                    std::to_string(out.required) + " is more than the key's " +
                                    std::to_string(out.owners) + " replicas (N)");
  }
  // A tick short of the client's deadline (the tick timer may fire up to a tick late), so that
  // the coordinator's answer, which says how many replicas answered, comes before a bare
  // Timeout from the service.
  out.deadline_ticks = std::max<uint64_t>(1, request.timeout_ms / options_.tick_ms - 1);
  TESSERA_RETURN_IF_ERROR(quorum::check_request(out));
  return out;
}

kj::Promise<quorum::Answer> QuorumRouter::coordinate(quorum::Request request, std::string table,
                                                     Bytes key,
                                                     std::vector<VersionedValue> payload) {
  auto reconcile = [conflict = conflict_](std::vector<VersionedValue> versions) {
    return conflict->reconcile(std::move(versions));
  };
  auto paf = kj::newPromiseAndFulfiller<quorum::Answer>();
  const uint64_t id = next_id_++;
  pending_.emplace(id, std::make_unique<Pending>(Pending{
                           quorum::Coordinator(std::move(request), reconcile), std::move(table),
                           std::move(key), std::move(payload), kj::mv(paf.fulfiller)}));
  handle_effects(id);
  return kj::mv(paf.promise);
}

void QuorumRouter::handle_effects(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& pending = *it->second;
  for (quorum::Effect& effect : pending.coordinator.drain()) {
    if (auto* write = std::get_if<quorum::SendWrite>(&effect)) {
      send_write(id, write->to, write->hint_for, pending, pending.payload);
    } else if (auto* read = std::get_if<quorum::SendRead>(&effect)) {
      send_read(id, read->to, pending);
    } else if (auto* answer = std::get_if<quorum::Answer>(&effect)) {
      pending.fulfiller->fulfill(std::move(*answer));
    } else if (auto* repair = std::get_if<quorum::ReadRepair>(&effect)) {
      send_write(0, repair->to, repair->hint_for, pending, std::move(repair->versions));
    }
  }
  if (pending.coordinator.done()) pending_.erase(it);
}

kj::Duration QuorumRouter::send_timeout(const Pending& pending) const {
  return pending.coordinator.request().deadline_ticks * options_.tick_ms * kj::MILLISECONDS;
}

kj::Duration QuorumRouter::send_timeout(const QuorumRequest& request) const {
  // As a coordinator's deadline: a tick short of the service's.
  const uint64_t ms = request.timeout_ms > 2 * options_.tick_ms
                          ? request.timeout_ms - options_.tick_ms
                          : request.timeout_ms / 2 + 1;
  return ms * kj::MILLISECONDS;
}

// `id` 0: a repair, whose reply nobody waits for.
void QuorumRouter::send_write(uint64_t id, const NodeId& to, const NodeId& hint_for,
                              const Pending& pending, std::vector<VersionedValue> versions) {
  kj::Promise<bool> acked = nullptr;
  if (to == self_) {
    acked = pool_
                ->run([store = store_, table = pending.table, key = pending.key,
                       versions = std::move(versions), hint_for]() {
                  return store->merge_versions(table, key, versions, hint_for);
                })
                .then([](Status status) { return status.is_ok(); });
  } else {
    auto send = [&](rpc::Replica::Client& replica) {
      auto call = replica.writeRequest();
      call.setTable(as_text(pending.table));
      call.setKey(as_data(pending.key));
      call.setHintFor(as_text(hint_for));
      set_versions(call.initVersions(versions.size()), versions);
      return call.send();
    };
    acked = call_peer<bool>(
        to, send_timeout(pending), send,
        [](auto response) { return from_error(response.getError()).is_ok(); },
        [](Status) { return false; });
  }
  tasks_->add(acked.then([this, id, to](bool ok) {
    if (id == 0) return;
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    it->second->coordinator.step(quorum::WriteReply{to, ok});
    handle_effects(id);
  }));
}

void QuorumRouter::send_read(uint64_t id, const NodeId& to, const Pending& pending) {
  kj::Promise<quorum::ReadReply> replied = nullptr;
  if (to == self_) {
    replied = pool_
                  ->run([store = store_, table = pending.table, key = pending.key]() {
                    return store->read_versions(table, key);
                  })
                  .then([to](Result<std::vector<VersionedValue>> versions) {
                    if (!versions.is_ok()) return quorum::ReadReply{to, false, {}};
                    return quorum::ReadReply{to, true, std::move(versions).value()};
                  });
  } else {
    auto send = [&](rpc::Replica::Client& replica) {
      auto call = replica.readRequest();
      call.setTable(as_text(pending.table));
      call.setKey(as_data(pending.key));
      return call.send();
    };
    replied = call_peer<quorum::ReadReply>(
        to, send_timeout(pending), send,
        [to](auto response) {
          if (!from_error(response.getError()).is_ok()) return quorum::ReadReply{to, false, {}};
          return quorum::ReadReply{to, true, to_versions(response.getVersions())};
        },
        [to](Status) {
          return quorum::ReadReply{to, false, {}};
        });
  }
  tasks_->add(replied.then([this, id](quorum::ReadReply reply) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    it->second->coordinator.step(reply);
    handle_effects(id);
  }));
}

QuorumRouter::Peer QuorumRouter::peer(const NodeId& node) {
  std::string address;
  for (const NodeInfo& info : membership_->members()) {
    if (info.id == node) address = info.address;
  }
  auto it = peers_.find(node);
  if (it != peers_.end() && it->second.address == address) return it->second;
  if (address.empty()) {
    return Peer{"", nullptr,
                rpc::Replica::Client(
                    KJ_EXCEPTION(DISCONNECTED, "no address is known for node", node.c_str()))};
  }
  auto link = std::make_shared<PeerLink>();
  kj::Promise<rpc::Replica::Client> connected =
      network_.parseAddress(address)
          .then([](kj::Own<kj::NetworkAddress> resolved) { return resolved->connect(); })
          .then([link](kj::Own<kj::AsyncIoStream> stream) {
            // After this the Peer and the calls on it (call_peer attaches it) keep `link`.
            link->stream = kj::mv(stream);
            link->rpc = kj::heap<capnp::TwoPartyClient>(*link->stream);
            rpc::Tessera::Client tessera = link->rpc->bootstrap().castAs<rpc::Tessera>();
            return tessera.replicaRequest().send().getReplica().castAs<rpc::Replica>();
          });
  Peer made{address, link, rpc::Replica::Client(kj::mv(connected))};
  peers_.insert_or_assign(node, made);
  return made;
}

void QuorumRouter::forget_peer(const NodeId& node, const PeerLink* link) {
  auto it = peers_.find(node);
  // Only the connection the failed call used: a newer one may be up already.
  if (it != peers_.end() && it->second.link.get() == link) peers_.erase(it);
}

template <typename T, typename Send, typename Reply, typename Failed>
kj::Promise<T> QuorumRouter::call_peer(const NodeId& node, kj::Duration timeout, Send send,
                                       Reply reply, Failed failed) {
  Peer to = peer(node);
  std::shared_ptr<PeerLink> link = to.link;
  kj::Promise<T> answered =
      send(to.client).then(kj::mv(reply)).catch_([this, node, link, failed](kj::Exception&& e) {
        forget_peer(node, link.get());
        return failed(Status::unavailable("node " + node + ": " + e.getDescription().cStr()));
      });
  return answered
      .exclusiveJoin(timer_.afterDelay(timeout).then([this, node, link, failed]() {
        // A connect that never completes (a partition that drops packets) is given up on, so
        // that the next call tries afresh; a connected peer that is slow keeps its connection.
        if (link == nullptr || link->rpc.get() == nullptr) forget_peer(node, link.get());
        return failed(Status::timeout("node " + node + " did not answer in time"));
      }))
      .attach(kj::mv(link));
}

kj::Promise<Result<Bytes>> QuorumRouter::put(std::string table, Bytes key, Bytes value,
                                             QuorumRequest request) {
  Status fits = store_->check_key(key);
  if (fits.is_ok()) fits = store_->check_value(value.size());
  if (!fits.is_ok()) return Result<Bytes>(fits);
  Result<Bytes> version = store_->new_version(request.context);
  if (!version.is_ok()) return Result<Bytes>(version.status());
  std::vector<VersionedValue> payload = {{*version, false, std::move(value)}};
  Result<quorum::Request> made = make_request(quorum::Operation::kWrite, table, key, request);
  if (!made.is_ok()) return Result<Bytes>(made.status());
  return coordinate(std::move(made).value(), std::move(table), std::move(key), std::move(payload))
      .then([version = *version](quorum::Answer answer) -> Result<Bytes> {
        TESSERA_RETURN_IF_ERROR(quorum::to_status(answer));
        return version;
      });
}

kj::Promise<Status> QuorumRouter::remove(std::string table, Bytes key, QuorumRequest request) {
  if (Status fits = store_->check_key(key); !fits.is_ok()) return fits;
  Result<Bytes> version = store_->new_version(request.context);
  if (!version.is_ok()) return version.status();
  std::vector<VersionedValue> payload = {store_->new_tombstone(*version)};
  Result<quorum::Request> made = make_request(quorum::Operation::kWrite, table, key, request);
  if (!made.is_ok()) return made.status();
  return coordinate(std::move(made).value(), std::move(table), std::move(key), std::move(payload))
      .then([](quorum::Answer answer) { return quorum::to_status(answer); });
}

kj::Promise<Result<StoreGetResult>> QuorumRouter::get(std::string table, Bytes key,
                                                      QuorumRequest request) {
  if (Status fits = store_->check_key(key); !fits.is_ok()) return Result<StoreGetResult>(fits);
  Result<quorum::Request> made = make_request(quorum::Operation::kRead, table, key, request);
  if (!made.is_ok()) return Result<StoreGetResult>(made.status());
  return coordinate(std::move(made).value(), std::move(table), std::move(key), {})
      .then([](quorum::Answer answer) -> Result<StoreGetResult> {
        TESSERA_RETURN_IF_ERROR(quorum::to_status(answer));
        auto& read = std::get<quorum::ReadAnswer>(answer);
        StoreGetResult result;
        result.values = std::move(read.values);
        result.context = encode_context(std::span<const Bytes>(read.context));
        return result;
      });
}

kj::Promise<Result<StoreScanPage>> QuorumRouter::scan(std::string table, Bytes start, Bytes end,
                                                      uint32_t limit, Bytes page_token,
                                                      QuorumRequest request) {
  using R = Result<StoreScanPage>;
  Result<Location> any = placement_->locate(table, start);
  if (!any.is_ok()) return R(any.status());
  // Every key has `owners` replicas: with at most owners - 1 members missing, each key still
  // has a copy among those that answer.
  const size_t missing_max = any->owners - 1;
  std::vector<NodeId> asked;
  size_t missing = 0;
  for (const NodeInfo& member : membership_->members()) {
    if (member.state == NodeState::kLeft) continue;
    if (member.id == self_ || is_up(member.state)) {
      asked.push_back(member.id);
    } else {
      ++missing;
    }
  }
  auto unavailable = [owners = any->owners](size_t answered, size_t members) {
    return Status(StatusCode::kQuorumUnavailable, "a scan needs all but " +
                                                      std::to_string(owners - 1) + " of the " +
                                                      std::to_string(members) + " members; " +
                                                      std::to_string(answered) + " answered");
  };
  const size_t members = asked.size() + missing;
  if (missing > missing_max) return R(unavailable(asked.size(), members));

  const kj::Duration timeout = send_timeout(request);
  kj::Vector<kj::Promise<Result<StoreVersionsPage>>> parts;
  for (const NodeId& node : asked) {
    kj::Promise<Result<StoreVersionsPage>> part = nullptr;
    if (node == self_) {
      part = pool_->run([store = store_, table, start, end, limit, page_token]() {
        return store->scan_versions(table, start, end, limit, page_token);
      });
    } else {
      auto send = [&](rpc::Replica::Client& replica) {
        auto call = replica.scanRequest();
        call.setTable(as_text(table));
        call.setStart(as_data(start));
        call.setEnd(as_data(end));
        call.setLimit(limit);
        call.setPageToken(as_data(page_token));
        return call.send();
      };
      part = call_peer<Result<StoreVersionsPage>>(
          node, timeout, send,
          [](auto response) -> Result<StoreVersionsPage> {
            TESSERA_RETURN_IF_ERROR(from_error(response.getError()));
            StoreVersionsPage page;
            for (auto item : response.getItems()) {
              page.items.push_back({to_bytes(item.getKey()), to_versions(item.getVersions())});
            }
            page.next_page_token = to_bytes(response.getNextPageToken());
            return page;
          },
          [](Status failed) { return Result<StoreVersionsPage>(failed); });
    }
    parts.add(kj::mv(part));
  }
  return kj::joinPromises(parts.releaseAsArray())
      .then([this, missing, missing_max, members, limit,
             unavailable](kj::Array<Result<StoreVersionsPage>> pages) -> R {
        std::vector<StoreVersionsPage*> answered;
        for (Result<StoreVersionsPage>& page : pages) {
          if (page.is_ok()) {
            answered.push_back(&page.value());
          } else if (page.status().code() == StatusCode::kNoSuchTable ||
                     page.status().code() == StatusCode::kInvalidArgument) {
            return page.status();  // the request's fault, not the replica's
          }
        }
        if (missing + (pages.size() - answered.size()) > missing_max) {
          return unavailable(answered.size(), members);
        }
        return merge_scan_pages(answered, limit);
      });
}

Result<StoreScanPage> QuorumRouter::merge_scan_pages(std::vector<StoreVersionsPage*> pages,
                                                     uint32_t limit) const {
  // A replica with more to come has shown every key it holds below its next page token, so the
  // merged page is complete below the smallest of those tokens.
  std::optional<Bytes> cut;
  for (const StoreVersionsPage* page : pages) {
    if (!page->next_page_token.empty() && (!cut || page->next_page_token < *cut)) {
      cut = page->next_page_token;
    }
  }
  std::map<Bytes, std::vector<VersionedValue>> keys;
  for (StoreVersionsPage* page : pages) {
    for (auto& item : page->items) {
      if (cut && item.key >= *cut) break;
      auto& versions = keys[item.key];
      for (VersionedValue& v : item.versions) versions.push_back(std::move(v));
    }
  }
  StoreScanPage out;
  // The replicas' pages each keep to the node's limits; their union must too.
  const StoreLimits& limits = store_->limits();
  const uint32_t keys_max =
      limit == 0 ? limits.scan_items_max : std::min(limit, limits.scan_items_max);
  uint32_t live_keys = 0;
  size_t bytes = 0;
  for (auto& [key, versions] : keys) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<VersionedValue> survivors,
                             conflict_->reconcile(std::move(versions)));
    bool live = false;
    for (const VersionedValue& v : survivors) live = live || !v.tombstone;
    if (!live) continue;
    if (live_keys == keys_max || bytes >= limits.scan_bytes_max) {
      out.next_page_token = key;
      return out;
    }
    ++live_keys;
    for (VersionedValue& v : survivors) {
      if (v.tombstone) continue;
      bytes += key.size() + v.value.size() + v.version.size();
      out.items.push_back({key, std::move(v.value), std::move(v.version)});
    }
  }
  if (cut) out.next_page_token = *cut;
  return out;
}

kj::Promise<Status> QuorumRouter::create_table(std::string name, QuorumRequest request) {
  return on_every_member(std::move(name), true, request);
}

kj::Promise<Status> QuorumRouter::drop_table(std::string name, QuorumRequest request) {
  return on_every_member(std::move(name), false, request);
}

kj::Promise<Status> QuorumRouter::on_every_member(std::string name, bool create,
                                                  const QuorumRequest& request) {
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

}  // namespace tessera::server
