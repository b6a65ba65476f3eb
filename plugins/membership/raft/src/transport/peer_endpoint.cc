// The receiving side: RaftPeer and SnapshotSink servers on the node's event loop. Batches are
// decoded and handed on there; everything a sink does runs on the writer thread, answered
// through cross-thread fulfillers, so that the node's loop never waits for a disk.
#include <string>
#include <utility>

#include "transport/transport_internal.h"

namespace tessera::raft::transport {
namespace {

// A node id as peers send it: not empty, and short.
constexpr size_t kNodeIdBytesMax = 256;

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

}  // namespace

// One stream's state; touched only on the writer thread (and by Endpoint::close once that
// thread stopped).
struct SinkState {
  std::unique_ptr<SnapshotSink> sink;
  Status failed;
  bool finished = false;
};

namespace {

// Runs `job` (returning a Status) on the writer thread and resolves with its Status; an error
// Status becomes an exception, the answer the sender sees.
template <typename Job>
kj::Promise<void> on_writer(Endpoint& endpoint, Job job) {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<Status>();
  bool posted =
      endpoint.writer.post([job = kj::mv(job), fulfiller = kj::mv(paf.fulfiller)]() mutable {
        fulfiller->fulfill(job());
      });
  if (!posted) {
    return rpc_exception(kj::Exception::Type::DISCONNECTED, "the raft transport stopped");
  }
  return paf.promise.then([](Status status) -> kj::Promise<void> {
    if (status.is_ok()) return kj::READY_NOW;
    const auto type = status.code() == StatusCode::kBusy ? kj::Exception::Type::OVERLOADED
                                                         : kj::Exception::Type::FAILED;
    return rpc_exception(type, status.to_string());
  });
}

class SinkServer final : public rpc::SnapshotSink::Server {
 public:
  SinkServer(std::shared_ptr<Endpoint> endpoint, std::shared_ptr<SinkState> state, NodeId from)
      : endpoint_(std::move(endpoint)), state_(std::move(state)), from_(std::move(from)) {
    ++endpoint_->receiving;
    endpoint_->track(state_);
  }

  ~SinkServer() {
    --endpoint_->receiving;
    // The sink is dropped on the writer thread (it may delete a staging file); a stream that
    // did not finish is aborted there.
    std::shared_ptr<Counters> counters = endpoint_->counters;
    (void)endpoint_->writer.post([state = std::move(state_), counters]() {
      if (state->sink != nullptr && !state->finished) {
        counters->update([](TransportStats& s) { ++s.snapshots_receive_failed; });
      }
      state->sink = nullptr;
    });
  }

 protected:
  kj::Promise<void> chunk(ChunkContext context) override {
    auto params = context.getParams();
    capnp::Data::Reader data = params.getData();
    if (params.getOffset() != received_) {
      return fail("chunk at offset " + std::to_string(params.getOffset()) + ", expected " +
                  std::to_string(received_));
    }
    if (data.size() > endpoint_->options.snapshot_chunk_bytes_max) {
      return fail("chunk of " + std::to_string(data.size()) + " bytes, over the bound of " +
                  std::to_string(endpoint_->options.snapshot_chunk_bytes_max));
    }
    received_ += data.size();
    Bytes bytes(reinterpret_cast<const char*>(data.begin()), data.size());
    return on_writer(
        *endpoint_, [state = state_, counters = endpoint_->counters, bytes = std::move(bytes)]() {
          if (!state->failed.is_ok()) return state->failed;
          if (state->sink == nullptr) return Status::unavailable("the snapshot stream is not open");
          Status written = state->sink->append(bytes);
          if (!written.is_ok()) {
            state->failed = written;
            return written;
          }
          counters->update([&](TransportStats& s) { s.snapshot_bytes_received += bytes.size(); });
          return Status::ok();
        });
  }

  kj::Promise<void> done(DoneContext context) override {
    if (context.getParams().getSize() != received_) {
      return fail("the sender sent " + std::to_string(context.getParams().getSize()) + " bytes, " +
                  std::to_string(received_) + " arrived");
    }
    return on_writer(*endpoint_, [state = state_, counters = endpoint_->counters]() {
      if (!state->failed.is_ok()) return state->failed;
      if (state->sink == nullptr) return Status::unavailable("the snapshot stream is not open");
      if (state->finished) return Status::ok();
      Status finished = state->sink->finish();
      if (!finished.is_ok()) {
        state->failed = finished;
        return finished;
      }
      state->finished = true;
      counters->update([](TransportStats& s) { ++s.snapshots_received; });
      return Status::ok();
    });
  }

 private:
  kj::Promise<void> fail(const std::string& why) {
    // The writer thread learns of it too, so that a later chunk cannot slip in.
    (void)endpoint_->writer.post([state = state_, why]() {
      if (state->failed.is_ok()) state->failed = Status::invalid_argument(why);
    });
    return rpc_exception(kj::Exception::Type::FAILED, "snapshot from " + from_ + ": " + why);
  }

  std::shared_ptr<Endpoint> endpoint_;
  std::shared_ptr<SinkState> state_;
  const NodeId from_;
  uint64_t received_ = 0;  // bytes of the chunks accepted so far
};

class RaftPeerServer final : public rpc::RaftPeer::Server {
 public:
  explicit RaftPeerServer(std::shared_ptr<Endpoint> endpoint) : endpoint_(std::move(endpoint)) {}

 protected:
  kj::Promise<void> send(SendContext context) override {
    auto params = context.getParams();
    const uint64_t wire_bytes = params.totalSize().wordCount * 8;
    auto messages = params.getMessages();
    const NodeId from = text(params.getFrom());
    if (from.empty() || from.size() > kNodeIdBytesMax) {
      endpoint_->counters->update(
          [&](TransportStats& s) { s.dropped_malformed += messages.size(); });
      return kj::READY_NOW;
    }
    std::vector<GroupMessage> batch;
    batch.reserve(messages.size());
    uint64_t malformed = 0;
    for (auto m : messages) {
      Result<GroupMessage> decoded = decode(m, endpoint_->options.decode);
      if (decoded.is_ok()) {
        batch.push_back(std::move(*decoded));
      } else {
        ++malformed;
      }
    }
    const uint64_t count = batch.size();
    {
      std::lock_guard lock(endpoint_->mu);
      if (endpoint_->closed) {
        endpoint_->counters->update([](TransportStats& s) { ++s.batches_refused; });
        return rpc_exception(kj::Exception::Type::DISCONNECTED, "the raft transport stopped");
      }
      if (!batch.empty()) endpoint_->batch(from, std::move(batch));
    }
    endpoint_->counters->update([&](TransportStats& s) {
      ++s.batches_received;
      s.messages_received += count;
      s.bytes_received += wire_bytes;
      s.dropped_malformed += malformed;
    });
    return kj::READY_NOW;
  }

  kj::Promise<void> snapshot(SnapshotContext context) override {
    auto params = context.getParams();
    const NodeId from = text(params.getFrom());
    auto refuse = [this](kj::Exception::Type type, const std::string& why) {
      endpoint_->counters->update([](TransportStats& s) { ++s.snapshots_receive_refused; });
      return kj::Promise<void>(rpc_exception(type, why));
    };
    if (from.empty() || from.size() > kNodeIdBytesMax) {
      return refuse(kj::Exception::Type::FAILED, "snapshot: malformed sender id");
    }
    Result<GroupMessage> message = decode(params.getMessage(), endpoint_->options.decode);
    if (!message.is_ok()) {
      return refuse(kj::Exception::Type::FAILED,
                    "snapshot from " + from + ": " + message.status().to_string());
    }
    if (message->message.type != MessageType::kSnapshot) {
      return refuse(kj::Exception::Type::FAILED, "snapshot from " + from + ": a message of type " +
                                                     std::string(to_string(message->message.type)));
    }
    if (endpoint_->receiving >= endpoint_->options.snapshots_receiving_max) {
      return refuse(kj::Exception::Type::OVERLOADED, "snapshot from " + from + ": " +
                                                         std::to_string(endpoint_->receiving) +
                                                         " snapshots are being received already");
    }
    auto state = std::make_shared<SinkState>();
    auto server = kj::heap<SinkServer>(endpoint_, state, from);
    std::shared_ptr<Endpoint> endpoint = endpoint_;
    // The handler runs on the writer thread without the endpoint's lock (it may create a
    // file): close() stops that thread before it clears the handler.
    return on_writer(*endpoint_,
                     [endpoint, state, from, message = std::move(*message)]() mutable {
                       Result<std::unique_ptr<SnapshotSink>> sink =
                           endpoint->snapshot(from, std::move(message));
                       if (!sink.is_ok()) {
                         endpoint->counters->update(
                             [](TransportStats& s) { ++s.snapshots_receive_refused; });
                         state->failed = sink.status();
                         return sink.status();
                       }
                       state->sink = std::move(*sink);
                       return Status::ok();
                     })
        .then([context, server = kj::mv(server)]() mutable {
          context.getResults().setSink(kj::mv(server));
        });
  }

 private:
  std::shared_ptr<Endpoint> endpoint_;
};

}  // namespace

Endpoint::Endpoint(const TransportOptions& options, Transport::BatchHandler batch,
                   Transport::SnapshotHandler snapshot, std::shared_ptr<Counters> counters)
    : options(options),
      counters(std::move(counters)),
      batch(std::move(batch)),
      snapshot(std::move(snapshot)) {}

void Endpoint::track(const std::shared_ptr<SinkState>& state) {
  std::lock_guard lock(sinks_mu);
  std::erase_if(sinks, [](const std::weak_ptr<SinkState>& s) { return s.expired(); });
  sinks.push_back(state);
}

void Endpoint::close() {
  {
    std::lock_guard lock(mu);
    closed = true;
  }
  writer.stop();
  // Sinks still open belong to the plugin: they go now, while it lives, not whenever the node
  // drops the capabilities.
  std::vector<std::weak_ptr<SinkState>> open;
  {
    std::lock_guard lock(sinks_mu);
    open.swap(sinks);
  }
  for (const std::weak_ptr<SinkState>& weak : open) {
    if (std::shared_ptr<SinkState> state = weak.lock()) {
      if (state->sink != nullptr && !state->finished) {
        counters->update([](TransportStats& s) { ++s.snapshots_receive_failed; });
      }
      state->sink = nullptr;
    }
  }
  std::lock_guard lock(mu);
  batch = nullptr;
  snapshot = nullptr;
}

capnp::Capability::Client make_raft_peer(std::shared_ptr<Endpoint> endpoint) {
  return rpc::RaftPeer::Client(kj::heap<RaftPeerServer>(std::move(endpoint)));
}

}  // namespace tessera::raft::transport
