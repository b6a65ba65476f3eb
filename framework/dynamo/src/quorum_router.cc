#include "tessera/dynamo/quorum_router.h"

#include <capnp/rpc-twoparty.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <variant>

#include "quorum_router_internal.h"
#include "rpc_values.h"
#include "tessera/node/stored_value.h"

namespace tessera::dynamo {
namespace {

// R or W for `request` on a key with `owners` home replicas.
uint32_t quorum_size(const RequestParams& request, bool read, uint32_t configured, size_t owners) {
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

QuorumRouter::QuorumRouter(NodeId self, LocalStore* store, HintStore* hints,
                           TableStates* tables, AntiEntropyResponder* anti_entropy,
                           WorkerPool* pool, WorkerPool* background, node::DurableGate* gate,
                           Conflict* conflict,
                           Placement* placement, Membership* membership, kj::Timer& timer,
                           kj::Network& network, const PeerDialer& dialer,
                           QuorumOptions options,
                           std::shared_ptr<RangeMoveQueue> moves)
    : self_(std::move(self)),
      store_(store),
      hints_(hints),
      tables_(tables),
      anti_entropy_(anti_entropy),
      pool_(pool),
      background_(background),
      gate_(gate),
      conflict_(conflict),
      placement_(placement),
      membership_(membership),
      timer_(timer),
      network_(network),
      dialer_(dialer),
      options_(options),
      tasks_(kj::heap<kj::TaskSet>(static_cast<kj::TaskSet::ErrorHandler&>(*this))),
      moves_(std::move(moves)),
      ticking_(tick_loop().eagerlyEvaluate(nullptr)),
      handing_over_(hand_over_hints().eagerlyEvaluate([](kj::Exception&& e) {
        spdlog::error("hinted handoff stopped: {}", e.getDescription().cStr());
      })),
      exchanging_tables_(exchange_tables_periodically().eagerlyEvaluate([](kj::Exception&& e) {
        spdlog::error("table exchanges stopped: {}", e.getDescription().cStr());
      })),
      anti_entropy_running_(anti_entropy_rounds().eagerlyEvaluate([](kj::Exception&& e) {
        spdlog::error("anti-entropy stopped: {}", e.getDescription().cStr());
      })),
      anti_entropy_ticking_(tick_anti_entropy_responder().eagerlyEvaluate(nullptr)) {}

QuorumRouter::~QuorumRouter() noexcept(false) = default;

void QuorumRouter::taskFailed(kj::Exception&& e) {
  // Sends that fail are counted by the coordinator; nothing else should end up here.
  spdlog::warn("quorum router: {}", e.getDescription().cStr());
}

kj::Promise<void> QuorumRouter::tick_loop() {
  return timer_.afterDelay(options_.tick_ms * kj::MILLISECONDS).then([this]() {
    std::vector<uint64_t> ids;
    for (auto& [id, pending] : pending_) {
      pending->coordinator.tick();
      ids.push_back(id);
    }
    for (uint64_t id : ids) handle_effects(id);
    if (!streaming_) {
      std::set<NodeId> targets = moves_->take();
      if (!targets.empty()) {
        streaming_ = true;
        tasks_->add(stream_to(std::move(targets))
                        .then([this](size_t) { streaming_ = false; },
                              [this](kj::Exception&& e) {
                                streaming_ = false;
                                spdlog::warn("range streaming: {}", e.getDescription().cStr());
                              }));
      }
    }
    return tick_loop();
  });
}

Result<quorum::Request> QuorumRouter::make_request(quorum::Operation operation, ByteView table,
                                                   ByteView key,
                                                   const RequestParams& request) const {
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
  auto up = [&](const NodeId& node) {
    auto it = std::find_if(view.begin(), view.end(),
                           [&](const NodeInfo& info) { return info.id == node; });
    return node == self_ || (it != view.end() && is_up(it->state));
  };
  quorum::Request out;
  out.operation = operation;
  out.owners = location.owners;
  for (const NodeId& node : location.replicas) out.up.push_back(up(node));
  out.replicas = std::move(location.replicas);
  const bool read = operation == quorum::Operation::kRead;
  if (!read) {
    // A node is joining: the key's next owners get the write too (reads stay with today's).
    for (const NodeId& node : location.next_owners) out.next_up.push_back(up(node));
    out.next_owners = std::move(location.next_owners);
  }
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
  const uint64_t ticks = request.timeout_ms / options_.tick_ms;
  out.deadline_ticks = ticks > 1 ? ticks - 1 : 1;
  TESSERA_RETURN_IF_ERROR(quorum::check_request(out));
  return out;
}

kj::Promise<Result<quorum::Answer>> QuorumRouter::coordinate(quorum::Request request,
                                                             std::string table, Bytes key,
                                                             std::vector<VersionedValue> payload) {
  auto reconcile = [conflict = conflict_](std::vector<VersionedValue> versions) {
    return conflict->reconcile(std::move(versions));
  };
  auto paf = kj::newPromiseAndFulfiller<Result<quorum::Answer>>();
  const uint64_t id = next_id_++;
  pending_.emplace(
      id, std::make_unique<Pending>(Pending{quorum::Coordinator(std::move(request), reconcile),
                                            std::move(table), std::move(key), std::move(payload),
                                            kj::mv(paf.fulfiller), Status::ok()}));
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
      const bool refused =
          std::holds_alternative<quorum::QuorumUnavailable>(*answer) && !pending.refusal.is_ok();
      pending.fulfiller->fulfill(refused ? Result<quorum::Answer>(pending.refusal)
                                         : Result<quorum::Answer>(std::move(*answer)));
    } else if (auto* repair = std::get_if<quorum::ReadRepair>(&effect)) {
      send_write(0, repair->to, repair->hint_for, pending, std::move(repair->versions));
    }
  }
  if (pending.coordinator.done()) pending_.erase(it);
}

kj::Duration QuorumRouter::send_timeout(const Pending& pending) const {
  return pending.coordinator.request().deadline_ticks * options_.tick_ms * kj::MILLISECONDS;
}

kj::Duration QuorumRouter::send_timeout(const RequestParams& request) const {
  // As a coordinator's deadline: a tick short of the service's.
  const uint64_t ms = request.timeout_ms > 2 * options_.tick_ms
                          ? request.timeout_ms - options_.tick_ms
                          : request.timeout_ms / 2 + 1;
  return ms * kj::MILLISECONDS;
}

// `id` 0: a repair, whose reply nobody waits for.
void QuorumRouter::send_write(uint64_t id, const NodeId& to, const NodeId& hint_for,
                              const Pending& pending, std::vector<VersionedValue> versions) {
  kj::Promise<Status> acked = nullptr;
  if (to == self_) {
    acked = gate_->serve([hints = hints_, table = pending.table, key = pending.key,
                          versions = std::move(versions), hint_for](node::Waiting waiting) {
      return hints->merge_versions(table, key, versions, hint_for, waiting);
    });
  } else {
    acked = batch_write(to, send_timeout(pending), pending, hint_for, std::move(versions))
                .then([this, id, to, hint_for](Status status) -> kj::Promise<Status> {
                  if (id == 0 || status.code() != StatusCode::kNoSuchTable) return status;
                  return resend_to_peer_without_table(id, to, hint_for, status);
                });
  }
  tasks_->add(acked.then([this, id, to](Status status) {
    if (id == 0) return;
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    if (is_refusal(status) && it->second->refusal.is_ok()) it->second->refusal = status;
    it->second->coordinator.step(quorum::WriteReply{to, status.is_ok()});
    handle_effects(id);
  }));
}

namespace {

// A peer's batch is sent before the turn ends once it holds this many writes or bytes.
constexpr size_t kBatchWritesMax = 256;
constexpr size_t kBatchBytesMax = 8 << 20;

}  // namespace

kj::Promise<Status> QuorumRouter::batch_write(const NodeId& to, kj::Duration timeout,
                                              const Pending& pending, const NodeId& hint_for,
                                              std::vector<VersionedValue> versions) {
  auto paf = kj::newPromiseAndFulfiller<Status>();
  PeerWrites& batch = open_writes_[to];
  if (batch.entries.empty()) {
    batch.timeout = timeout;
    // At the end of the turn, after every request it read: they share the call.
    tasks_->add(kj::evalLast([this, to]() { flush_writes(to); }));
  }
  size_t bytes = pending.key.size();
  for (const VersionedValue& v : versions) bytes += v.value.size() + v.version.size();
  batch.bytes += bytes;
  batch.entries.push_back(
      {pending.table, pending.key, hint_for, std::move(versions), kj::mv(paf.fulfiller)});
  if (batch.entries.size() >= kBatchWritesMax || batch.bytes >= kBatchBytesMax) flush_writes(to);
  return kj::mv(paf.promise);
}

void QuorumRouter::flush_writes(const NodeId& to) {
  auto it = open_writes_.find(to);
  if (it == open_writes_.end()) return;
  auto entries = std::make_shared<std::vector<PeerWrites::Entry>>(std::move(it->second.entries));
  const kj::Duration timeout = it->second.timeout;
  open_writes_.erase(it);
  const size_t n = entries->size();
  auto send = [&](rpc::Replica::Client& replica) {
    auto call = replica.writeBatchRequest();
    auto writes = call.initWrites(n);
    for (size_t i = 0; i < n; ++i) {
      const PeerWrites::Entry& entry = (*entries)[i];
      writes[i].setTable(as_text(entry.table));
      writes[i].setKey(as_data(entry.key));
      writes[i].setHintFor(as_text(entry.hint_for));
      set_versions(writes[i].initVersions(entry.versions.size()), entry.versions);
    }
    return call.send();
  };
  auto answered = call_peer<std::vector<Status>>(
      to, timeout, send,
      [n](auto response) {
        auto errors = response.getErrors();
        std::vector<Status> statuses;
        for (size_t i = 0; i < n; ++i) {
          statuses.push_back(i < errors.size()
                                 ? from_error(errors[i])
                                 : Status::internal("a replica answered a batch of " +
                                                    std::to_string(n) + " writes with " +
                                                    std::to_string(errors.size()) + " errors"));
        }
        return statuses;
      },
      [n](Status failed) { return std::vector<Status>(n, failed); });
  tasks_->add(answered.then([entries](std::vector<Status> statuses) {
    for (size_t i = 0; i < entries->size(); ++i) (*entries)[i].acked->fulfill(std::move(statuses[i]));
  }));
}

kj::Promise<Status> QuorumRouter::resend_to_peer_without_table(uint64_t id, const NodeId& to,
                                                              const NodeId& hint_for,
                                                              Status refused) {
  auto it = pending_.find(id);
  if (it == pending_.end() || store_->has_table_now(it->second->table) != true) return refused;
  // The peer has not learned of the table yet (it was down or had not joined when it was
  // made): it learns it now, and gets the write again.
  return exchange_tables(to, send_timeout(*it->second))
      .then([this, id, to, hint_for, refused](Status told) -> kj::Promise<Status> {
        auto it = pending_.find(id);
        if (!told.is_ok() || it == pending_.end()) return refused;
        const Pending& pending = *it->second;
        return batch_write(to, send_timeout(pending), pending, hint_for, pending.payload);
      });
}

kj::Promise<Status> QuorumRouter::write_copy(const NodeId& to, kj::Duration timeout,
                                             const std::string& table, ByteView key,
                                             const std::vector<VersionedValue>& versions) {
  auto send = [&](rpc::Replica::Client& replica) {
    auto call = replica.writeRequest();
    call.setTable(as_text(table));
    call.setKey(as_data(key));
    set_versions(call.initVersions(versions.size()), versions);
    return call.send();
  };
  return call_peer<Status>(
      to, timeout, send, [](auto response) { return from_error(response.getError()); },
      [](Status failed) { return failed; });
}

void QuorumRouter::send_read(uint64_t id, const NodeId& to, const Pending& pending) {
  using Versions = Result<std::vector<VersionedValue>>;
  kj::Promise<Versions> replied = nullptr;
  if (to == self_) {
    replied = gate_->serve(
        [store = store_, table = pending.table, key = pending.key](node::Waiting waiting) {
          return store->read_versions(table, key, waiting);
        });
  } else {
    auto send = [&](rpc::Replica::Client& replica) {
      auto call = replica.readRequest();
      call.setTable(as_text(pending.table));
      call.setKey(as_data(pending.key));
      return call.send();
    };
    replied = call_peer<Versions>(
        to, send_timeout(pending), send,
        [](auto response) -> Versions {
          TESSERA_RETURN_IF_ERROR(from_error(response.getError()));
          return to_versions(response.getVersions());
        },
        [](Status failed) { return Versions(failed); });
  }
  tasks_->add(replied.then([this, id, to](Versions versions) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Pending& pending = *it->second;
    if (versions.status().code() == StatusCode::kNoSuchTable && to != self_ &&
        store_->has_table_now(pending.table) == true) {
      // A peer that has not learned of the table yet holds no copy of the key: an empty
      // answer. It learns the table now.
      tasks_->add(exchange_tables(to, send_timeout(pending)).then([](Status) {}));
      versions = std::vector<VersionedValue>{};
    }
    if (!versions.is_ok()) {
      if (is_refusal(versions.status()) && pending.refusal.is_ok()) {
        pending.refusal = versions.status();
      }
      pending.coordinator.step(quorum::ReadReply{to, false, {}});
    } else {
      pending.coordinator.step(quorum::ReadReply{to, true, std::move(versions).value()});
    }
    handle_effects(id);
  }));
}

QuorumRouter::Peer QuorumRouter::peer(const NodeId& node) {
  // An open connection is used as it is: a node's address changes only when it restarts, and
  // then the old connection fails and is forgotten (call_peer), so the next call looks again.
  // This keeps the copy of the membership view off the path of every send.
  if (auto it = peers_.find(node); it != peers_.end()) return it->second;
  std::string address;
  for (const NodeInfo& info : membership_->members()) {
    if (info.id == node) address = info.address;
  }
  if (address.empty()) {
    return Peer{nullptr, rpc::Replica::Client(KJ_EXCEPTION(
                             DISCONNECTED, "no address is known for node", node.c_str()))};
  }
  auto link = std::make_shared<PeerLink>();
  // The Peer and the calls on it (call_peer attaches it) keep `link`.
  kj::Promise<rpc::Replica::Client> connected =
      dialer_.dial(network_, address, link).then([](rpc::PeerLink::Client peer_link) {
        return peer_link.replicaRequest().send().getReplica().castAs<rpc::Replica>();
      });
  Peer made{link, rpc::Replica::Client(kj::mv(connected))};
  peers_.insert_or_assign(node, made);
  return made;
}

void QuorumRouter::forget_peer(const NodeId& node, const PeerLink* link) {
  auto it = peers_.find(node);
  // Only the connection the failed call used: a newer one may be up already.
  if (it != peers_.end() && it->second.link.get() == link) peers_.erase(it);
}

kj::Promise<Result<Bytes>> QuorumRouter::put(std::string table, Bytes key, Bytes value,
                                             RequestParams request) {
  Status fits = store_->check_key(key);
  if (fits.is_ok()) fits = store_->check_value(value.size());
  if (!fits.is_ok()) return Result<Bytes>(fits);
  Result<Bytes> version = store_->new_version(request.context);
  if (!version.is_ok()) return Result<Bytes>(version.status());
  std::vector<VersionedValue> payload = {{*version, false, std::move(value)}};
  Result<quorum::Request> made = make_request(quorum::Operation::kWrite, table, key, request);
  if (!made.is_ok()) return Result<Bytes>(made.status());
  return coordinate(std::move(made).value(), std::move(table), std::move(key), std::move(payload))
      .then([version = *version](Result<quorum::Answer> answer) -> Result<Bytes> {
        TESSERA_RETURN_IF_ERROR(answer.status());
        TESSERA_RETURN_IF_ERROR(quorum::to_status(*answer));
        return version;
      });
}

kj::Promise<Status> QuorumRouter::remove(std::string table, Bytes key, RequestParams request) {
  if (Status fits = store_->check_key(key); !fits.is_ok()) return fits;
  Result<Bytes> version = store_->new_version(request.context);
  if (!version.is_ok()) return version.status();
  std::vector<VersionedValue> payload = {store_->new_tombstone(*version)};
  Result<quorum::Request> made = make_request(quorum::Operation::kWrite, table, key, request);
  if (!made.is_ok()) return made.status();
  return coordinate(std::move(made).value(), std::move(table), std::move(key), std::move(payload))
      .then([](Result<quorum::Answer> answer) {
        return answer.is_ok() ? quorum::to_status(*answer) : answer.status();
      });
}

kj::Promise<Result<StoreGetResult>> QuorumRouter::get(std::string table, Bytes key,
                                                      RequestParams request) {
  if (Status fits = store_->check_key(key); !fits.is_ok()) return Result<StoreGetResult>(fits);
  Result<quorum::Request> made = make_request(quorum::Operation::kRead, table, key, request);
  if (!made.is_ok()) return Result<StoreGetResult>(made.status());
  return coordinate(std::move(made).value(), std::move(table), std::move(key), {})
      .then([](Result<quorum::Answer> answer) -> Result<StoreGetResult> {
        TESSERA_RETURN_IF_ERROR(answer.status());
        TESSERA_RETURN_IF_ERROR(quorum::to_status(*answer));
        auto& read = std::get<quorum::ReadAnswer>(*answer);
        StoreGetResult result;
        result.values = std::move(read.values);
        result.context = node::encode_context(std::span<const Bytes>(read.context));
        return result;
      });
}

}  // namespace tessera::dynamo
