// The IO thread's message path: a queue per peer drained into send calls, a few in flight per
// connection, connections opened on first use and after a backoff.
#include <algorithm>
#include <utility>

#include "transport/transport_internal.h"

namespace tessera::raft::transport {

void IoLoop::ErrorHandler::taskFailed(kj::Exception&& exception) {
  // Every task handles its own failure; one that gets here has nothing left to clean up.
}

kj::Exception rpc_exception(kj::Exception::Type type, const std::string& what) {
  return kj::Exception(type, __FILE__, __LINE__, kj::heapString(what.data(), what.size()));
}

Status from_exception(const kj::Exception& e, const std::string& context) {
  std::string what = context + ": " + e.getDescription().cStr();
  if (e.getType() == kj::Exception::Type::OVERLOADED) return Status::busy(std::move(what));
  return Status::unavailable(std::move(what));
}

IoLoop::IoLoop(const NodeId& self, const TransportOptions& options,
               const Transport::AddressResolver& address_of, Shared& shared, Counters& counters,
               JobThread& reader)
    : self_(self),
      options_(options),
      address_of_(address_of),
      shared_(shared),
      counters_(counters),
      reader_(reader) {}

IoLoop::~IoLoop() = default;

void IoLoop::run() {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  timer_ = &io.provider->getTimer();
  network_ = &io.provider->getNetwork();
  tasks_ = kj::heap<kj::TaskSet>(error_handler_);
  serve(io).wait(io.waitScope);
  // Stopping: cancel every call and connection here, on their own thread.
  tasks_ = nullptr;
  fail_all_streams();
  peers_.clear();
  timer_ = nullptr;
  network_ = nullptr;
}

kj::Promise<void> IoLoop::serve(kj::AsyncIoContext& io) {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
  {
    std::lock_guard lock(shared_.mu);
    if (shared_.has_work()) {
      paf.fulfiller->fulfill();
    } else {
      shared_.wake = kj::mv(paf.fulfiller);
    }
  }
  return paf.promise.then([this, &io]() -> kj::Promise<void> {
    if (!drain()) return kj::READY_NOW;
    return serve(io);
  });
}

bool IoLoop::drain() {
  std::vector<NodeId> dirty;
  std::vector<SnapshotRequest> snapshots;
  std::vector<kj::Function<void()>> posted;
  {
    std::lock_guard lock(shared_.mu);
    if (shared_.stopping) return false;
    dirty.swap(shared_.dirty);
    for (const NodeId& id : dirty) shared_.queues[id].dirty = false;
    snapshots.swap(shared_.snapshots);
    posted.swap(shared_.posted);
  }
  for (auto& job : posted) job();
  for (SnapshotRequest& request : snapshots) start_stream(std::move(request));
  for (const NodeId& id : dirty) pump(peer(id));
  return true;
}

IoLoop::Peer& IoLoop::peer(const NodeId& id) {
  std::unique_ptr<Peer>& p = peers_[id];
  if (p == nullptr) {
    p = std::make_unique<Peer>();
    p->id = id;
  }
  return *p;
}

void IoLoop::pump(Peer& peer) {
  while (!peer.in_backoff && peer.in_flight < options_.batches_in_flight_max) {
    std::vector<GroupMessage> batch;
    if (!take_batch(peer, batch)) return;
    if (peer.link == nullptr) {
      std::optional<std::string> address = address_of_(peer.id);
      if (!address.has_value()) {
        counters_.update([&](TransportStats& s) { s.dropped_unreachable += batch.size(); });
        fail_peer(peer, "no address known");
        return;
      }
      peer.link = std::make_shared<Link>();
      const uint64_t generation = peer.generation;
      Peer* p = &peer;
      peer.client = rpc::RaftPeer::Client(
          open(*address, peer.link).then([this, p, generation](rpc::RaftPeer::Client client) {
            if (generation == p->generation) {
              counters_.update([&](TransportStats& s) {
                ++s.connects;
                if (p->failed_before) ++s.reconnects;
              });
              watch(*p);
            }
            return client;
          }));
    }
    issue(peer, std::move(batch));
  }
}

bool IoLoop::take_batch(Peer& peer, std::vector<GroupMessage>& batch) {
  std::lock_guard lock(shared_.mu);
  auto it = shared_.queues.find(peer.id);
  if (it == shared_.queues.end()) return false;
  PeerQueue& queue = it->second;
  size_t bytes = 0;
  while (!queue.messages.empty() && batch.size() < options_.batch_messages_max) {
    const size_t size = encoded_bytes(queue.messages.front());
    if (!batch.empty() && bytes + size > options_.batch_bytes_max) break;
    bytes += size;
    batch.push_back(std::move(queue.messages.front()));
    queue.messages.pop_front();
  }
  queue.bytes -= std::min(queue.bytes, bytes);
  if (queue.messages.empty()) queue.bytes = 0;
  return !batch.empty();
}

void IoLoop::issue(Peer& peer, std::vector<GroupMessage> batch) {
  KJ_IF_MAYBE (client, peer.client) {
    size_t bytes = 64 + self_.size();
    for (const GroupMessage& m : batch) bytes += encoded_bytes(m);
    auto request = client->sendRequest(capnp::MessageSize{bytes / 8 + 16, 0});
    request.setFrom(self_);
    auto messages = request.initMessages(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) encode(batch[i], messages[i]);
    const uint64_t wire_bytes = request.totalSize().wordCount * 8;
    const uint64_t count = batch.size();
    const uint64_t generation = peer.generation;
    Peer* p = &peer;
    ++peer.in_flight;
    const uint32_t timeout_ms = options_.call_timeout_ms;
    tasks_->add(
        request.send()
            .ignoreResult()
            .exclusiveJoin(timer_->afterDelay(timeout_ms * kj::MILLISECONDS).then([timeout_ms]() {
              return kj::Promise<void>(
                  rpc_exception(kj::Exception::Type::DISCONNECTED,
                                "no answer within " + std::to_string(timeout_ms) + " ms"));
            }))
            .then(
                [this, p, generation, count, wire_bytes]() {
                  counters_.update([&](TransportStats& s) {
                    ++s.batches_sent;
                    s.messages_sent += count;
                    s.bytes_sent += wire_bytes;
                  });
                  if (generation != p->generation) return;
                  --p->in_flight;
                  p->backoff_ms = 0;
                  pump(*p);
                },
                [this, p, generation, count](kj::Exception&& e) {
                  counters_.update([&](TransportStats& s) { s.dropped_send_failed += count; });
                  if (generation != p->generation) return;
                  fail_peer(*p, e.getDescription().cStr());
                }));
  } else {
    TESSERA_ASSERT(false);  // pump() opens a connection before it issues a call
  }
}

void IoLoop::watch(Peer& peer) {
  if (peer.link == nullptr || peer.link->rpc.get() == nullptr) return;
  const uint64_t generation = peer.generation;
  Peer* p = &peer;
  // A connection that closes while idle (the peer restarted) is forgotten at once, without a
  // backoff, so that the next message opens a new one instead of failing on the dead one.
  tasks_->add(peer.link->rpc->onDisconnect().then([this, p, generation]() {
    if (generation != p->generation || p->in_flight > 0) return;  // a failing call handles it
    forget_link(*p);
    pump(*p);
  }));
}

void IoLoop::forget_link(Peer& peer) {
  ++peer.generation;
  peer.client = nullptr;
  peer.in_flight = 0;
  // Destroyed later: this may run inside a continuation of that very connection.
  tasks_->add(kj::evalLater([link = std::move(peer.link)]() {}));
  peer.link = nullptr;
}

void IoLoop::fail_peer(Peer& peer, const std::string& why) {
  forget_link(peer);
  peer.last_failure = why;
  peer.failed_before = true;
  peer.backoff_ms = peer.backoff_ms == 0 ? options_.backoff_ms_min
                                         : std::min(peer.backoff_ms * 2, options_.backoff_ms_max);
  peer.in_backoff = true;
  counters_.update([](TransportStats& s) { ++s.connection_failures; });
  // Queued messages go stale while the peer is away; Raft resends what still matters. They
  // are freed outside the lock, which senders wait for.
  std::deque<GroupMessage> stale;
  {
    std::lock_guard lock(shared_.mu);
    PeerQueue& queue = shared_.queues[peer.id];
    stale.swap(queue.messages);
    queue.bytes = 0;
    queue.unreachable = true;
  }
  counters_.update([&](TransportStats& s) { s.dropped_unreachable += stale.size(); });
  stale.clear();
  Peer* p = &peer;
  tasks_->add(timer_->afterDelay(peer.backoff_ms * kj::MILLISECONDS).then([this, p]() {
    p->in_backoff = false;
    std::lock_guard lock(shared_.mu);
    shared_.queues[p->id].unreachable = false;
  }));
}

kj::Promise<rpc::RaftPeer::Client> IoLoop::open(const std::string& address,
                                                std::shared_ptr<Link> link) {
  const std::string service = options_.service_name;
  const uint32_t timeout_ms = options_.connect_timeout_ms;
  auto check = [service](auto response) {
    if (response.getError().getCode() != tessera::rpc::ErrorCode::OK) {
      kj::throwFatalException(
          rpc_exception(kj::Exception::Type::FAILED,
                        "the node refused peer service \"" + service +
                            "\": " + response.getError().getMessage().cStr()));
    }
    return response.getService().template castAs<rpc::RaftPeer>();
  };
  kj::Promise<rpc::RaftPeer::Client> connected = nullptr;
  if (options_.dialer != nullptr) {
    connected = options_.dialer->dial(*network_, address, link)
                    .then([service](tessera::rpc::PeerLink::Client peer) {
                      auto request = peer.peerRequest();
                      request.setName(service);
                      return request.send();
                    })
                    .then(check);
  } else {
    connected =
        kj::evalNow([this, address]() { return network_->parseAddress(address); })
            .then([](kj::Own<kj::NetworkAddress> resolved) { return resolved->connect(); })
            .then([link, service](kj::Own<kj::AsyncIoStream> stream) {
              link->stream = kj::mv(stream);
              link->rpc = kj::heap<capnp::TwoPartyClient>(*link->stream);
              auto node = link->rpc->bootstrap().castAs<tessera::rpc::Tessera>();
              auto request = node.peerRequest();
              request.setName(service);
              return request.send();
            })
            .then(check);
  }
  return connected.exclusiveJoin(
      timer_->afterDelay(timeout_ms * kj::MILLISECONDS)
          .then([address, timeout_ms]() -> kj::Promise<rpc::RaftPeer::Client> {
            return rpc_exception(
                kj::Exception::Type::DISCONNECTED,
                "no connection to " + address + " within " + std::to_string(timeout_ms) + " ms");
          }));
}

}  // namespace tessera::raft::transport
