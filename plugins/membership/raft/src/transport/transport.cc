#include "transport/transport.h"

#include <thread>
#include <utility>

#include "transport/transport_internal.h"

namespace tessera::raft::transport {
namespace {

class RaftPeerService final : public PeerService {
 public:
  explicit RaftPeerService(std::shared_ptr<Endpoint> endpoint) : endpoint_(std::move(endpoint)) {}
  capnp::Capability::Client capability() override { return make_raft_peer(endpoint_); }

 private:
  std::shared_ptr<Endpoint> endpoint_;
};

}  // namespace

Status TransportOptions::validate() const {
  struct Bound {
    const char* name;
    size_t value;
  };
  for (const Bound& b :
       {Bound{"queue_bytes_max", queue_bytes_max}, Bound{"queue_messages_max", queue_messages_max},
        Bound{"batch_bytes_max", batch_bytes_max}, Bound{"batch_messages_max", batch_messages_max},
        Bound{"message_bytes_max", message_bytes_max},
        Bound{"batches_in_flight_max", batches_in_flight_max}, Bound{"peers_max", peers_max},
        Bound{"connect_timeout_ms", connect_timeout_ms}, Bound{"call_timeout_ms", call_timeout_ms},
        Bound{"backoff_ms_min", backoff_ms_min},
        Bound{"snapshot_chunk_bytes_max", snapshot_chunk_bytes_max},
        Bound{"snapshot_chunks_in_flight_max", snapshot_chunks_in_flight_max},
        Bound{"snapshots_sending_max", snapshots_sending_max},
        Bound{"snapshots_receiving_max", snapshots_receiving_max},
        Bound{"snapshot_call_timeout_ms", snapshot_call_timeout_ms}}) {
    if (b.value == 0) {
      return Status::invalid_argument(std::string("raft transport: ") + b.name + " must be > 0");
    }
  }
  if (backoff_ms_max < backoff_ms_min) {
    return Status::invalid_argument("raft transport: backoff_ms_max is below backoff_ms_min");
  }
  if (service_name.empty()) {
    return Status::invalid_argument("raft transport: service_name is empty");
  }
  return Status::ok();
}

struct Transport::Impl {
  Impl(const NodeId& self, TransportOptions options, Handlers handlers)
      : self(self),
        options(std::move(options)),
        address_of(std::move(handlers.address_of)),
        counters(std::make_shared<Counters>()),
        endpoint(std::make_shared<Endpoint>(this->options, std::move(handlers.batch),
                                            std::move(handlers.snapshot), counters)),
        service(endpoint),
        io(self, this->options, address_of, shared, *counters, reader) {}

  const NodeId self;
  const TransportOptions options;
  const AddressResolver address_of;
  std::shared_ptr<Counters> counters;
  Shared shared;
  JobThread reader;  // reads snapshot images for the IO thread
  std::shared_ptr<Endpoint> endpoint;
  RaftPeerService service;
  IoLoop io;
  std::thread io_thread;
};

Result<std::unique_ptr<Transport>> Transport::start(const NodeId& self, TransportOptions options,
                                                    Handlers handlers) {
  TESSERA_RETURN_IF_ERROR(options.validate());
  if (self.empty()) return Status::invalid_argument("raft transport: the node id is empty");
  if (!handlers.address_of || !handlers.batch || !handlers.snapshot) {
    return Status::invalid_argument("raft transport: every handler must be set");
  }
  auto impl = std::make_unique<Impl>(self, std::move(options), std::move(handlers));
  Impl* p = impl.get();
  p->io_thread = std::thread([p]() { p->io.run(); });
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Transport::~Transport() {
  {
    std::lock_guard lock(impl_->shared.mu);
    impl_->shared.stopping = true;
    impl_->shared.notify();
  }
  impl_->io_thread.join();
  impl_->reader.stop();
  impl_->endpoint->close();
  uint64_t dropped = 0;
  std::vector<SnapshotRequest> unstarted;
  std::vector<kj::Function<void()>> posted;
  {
    std::lock_guard lock(impl_->shared.mu);
    for (auto& [id, queue] : impl_->shared.queues) dropped += queue.messages.size();
    impl_->shared.queues.clear();
    unstarted.swap(impl_->shared.snapshots);
    posted.swap(impl_->shared.posted);
  }
  impl_->counters->update([&](TransportStats& s) {
    s.dropped_stopped += dropped;
    s.snapshots_failed += unstarted.size();
  });
  // Snapshots requested but never started: their `done` is still owed (called without the
  // lock, in case it sends).
  for (SnapshotRequest& request : unstarted) {
    request.done(Status::unavailable("snapshot to " + request.to + ": the transport stopped"));
  }
}

void Transport::send(const NodeId& to, std::vector<GroupMessage> messages) {
  if (messages.empty()) return;
  const TransportOptions& options = impl_->options;
  std::vector<size_t> sizes;
  sizes.reserve(messages.size());
  for (const GroupMessage& m : messages) sizes.push_back(encoded_bytes(m));
  uint64_t too_large = 0, full = 0, unreachable = 0, stopped = 0;
  {
    Shared& shared = impl_->shared;
    std::lock_guard lock(shared.mu);
    auto it = shared.queues.find(to);
    if (shared.stopping) {
      stopped = messages.size();
    } else if (it == shared.queues.end() && shared.queues.size() >= options.peers_max) {
      unreachable = messages.size();
    } else {
      if (it == shared.queues.end()) it = shared.queues.emplace(to, PeerQueue()).first;
      PeerQueue& queue = it->second;
      if (queue.unreachable) {
        unreachable = messages.size();
      } else {
        size_t queued = 0;
        for (size_t i = 0; i < messages.size(); ++i) {
          if (sizes[i] > options.message_bytes_max) {
            ++too_large;
          } else if (queue.messages.size() >= options.queue_messages_max ||
                     queue.bytes + sizes[i] > options.queue_bytes_max) {
            ++full;
          } else {
            queue.messages.push_back(std::move(messages[i]));
            queue.bytes += sizes[i];
            ++queued;
          }
        }
        if (queued > 0) {
          if (!queue.dirty) {
            queue.dirty = true;
            shared.dirty.push_back(to);
          }
          shared.notify();
        }
      }
    }
  }
  if (too_large + full + unreachable + stopped > 0) {
    impl_->counters->update([&](TransportStats& s) {
      s.dropped_too_large += too_large;
      s.dropped_queue_full += full;
      s.dropped_unreachable += unreachable;
      s.dropped_stopped += stopped;
    });
  }
}

Status Transport::send_snapshot(const NodeId& to, GroupMessage message,
                                std::unique_ptr<SnapshotChunks> image, SnapshotDone done) {
  TESSERA_REQUIRE(message.message.type == MessageType::kSnapshot,
                  "send_snapshot of a non-snapshot");
  TESSERA_REQUIRE(image != nullptr, "send_snapshot without an image");
  TESSERA_REQUIRE(done != nullptr, "send_snapshot without a done callback");
  Shared& shared = impl_->shared;
  {
    std::lock_guard lock(shared.mu);
    if (shared.stopping) return Status::unavailable("the raft transport is stopping");
    if (shared.snapshots_sending < impl_->options.snapshots_sending_max) {
      ++shared.snapshots_sending;
      shared.snapshots.push_back(SnapshotRequest{to, std::move(message),
                                                 std::shared_ptr<SnapshotChunks>(std::move(image)),
                                                 std::move(done)});
      shared.notify();
      return Status::ok();
    }
  }
  impl_->counters->update([](TransportStats& s) { ++s.snapshots_refused; });
  return Status::busy("snapshot to " + to + ": " +
                      std::to_string(impl_->options.snapshots_sending_max) +
                      " snapshots are being sent already");
}

PeerService* Transport::peer_service() { return &impl_->service; }

TransportStats Transport::stats() const {
  TransportStats stats = impl_->counters->get();
  std::lock_guard lock(impl_->shared.mu);
  for (const auto& [id, queue] : impl_->shared.queues) {
    stats.queued_messages += queue.messages.size();
    stats.queued_bytes += queue.bytes;
  }
  return stats;
}

}  // namespace tessera::raft::transport
