// The IO thread's snapshot path: one stream per image on a connection of its own (so that
// chunks never queue ahead of heartbeats), chunks read on the reader thread, at most
// snapshot_chunks_in_flight_max of them read or unanswered at once.
#include <utility>

#include "transport/transport_internal.h"

namespace tessera::raft::transport {

namespace {

// Splits `chunk` into pieces of at most `bytes_max`.
std::vector<Bytes> split(Bytes chunk, size_t bytes_max) {
  std::vector<Bytes> pieces;
  if (chunk.size() <= bytes_max) {
    if (!chunk.empty()) pieces.push_back(std::move(chunk));
    return pieces;
  }
  for (size_t at = 0; at < chunk.size(); at += bytes_max)
    pieces.push_back(chunk.substr(at, bytes_max));
  return pieces;
}

template <typename T>
kj::Promise<T> within(kj::Timer& timer, uint32_t timeout_ms, kj::Promise<T> promise,
                      std::string what) {
  return promise.exclusiveJoin(
      timer.afterDelay(timeout_ms * kj::MILLISECONDS).then([timeout_ms, what]() -> kj::Promise<T> {
        return rpc_exception(kj::Exception::Type::DISCONNECTED,
                             what + ": no answer within " + std::to_string(timeout_ms) + " ms");
      }));
}

}  // namespace

void IoLoop::start_stream(SnapshotRequest request) {
  const uint64_t id = next_stream_id_++;
  auto stream = std::make_unique<Stream>();
  Stream& s = *stream;
  s.id = id;
  s.to = request.to;
  s.image = std::move(request.image);
  s.done = std::move(request.done);
  streams_[id] = std::move(stream);

  std::optional<std::string> address = address_of_(s.to);
  if (!address.has_value()) {
    end_stream(id, Status::unavailable("snapshot to " + s.to + ": no address known"));
    return;
  }
  s.link = std::make_shared<Link>();
  rpc::RaftPeer::Client peer(open(*address, s.link));
  auto call = peer.snapshotRequest();
  call.setFrom(self_);
  encode(request.message, call.initMessage());
  auto answer = call.send();
  s.sink = answer.getSink();  // pipelined: chunks go out before the answer is back
  tasks_->add(within(*timer_, options_.snapshot_call_timeout_ms, answer.ignoreResult(),
                     "snapshot to " + s.to)
                  .catch_([this, id, to = s.to](kj::Exception&& e) {
                    end_stream(id, from_exception(e, "snapshot to " + to));
                  }));
  request_read(s);
}

void IoLoop::request_read(Stream& s) {
  if (s.reading || s.end ||
      s.pending.size() + s.in_flight >= options_.snapshot_chunks_in_flight_max) {
    return;
  }
  s.reading = true;
  const uint64_t id = s.id;
  const size_t piece_max = options_.snapshot_chunk_bytes_max;
  Shared* shared = &shared_;
  bool posted = reader_.post([this, shared, id, image = s.image, piece_max]() {
    Result<std::optional<Bytes>> chunk = image->next();
    Result<std::vector<Bytes>> pieces = std::vector<Bytes>();
    bool end = false;
    if (!chunk.is_ok()) {
      pieces = chunk.status();
    } else if (!chunk->has_value()) {
      end = true;
    } else {
      pieces = split(std::move(**chunk), piece_max);
    }
    // Runs on the IO thread; dropped unrun if the transport stops first.
    std::lock_guard lock(shared->mu);
    shared->posted.push_back([this, id, pieces = std::move(pieces), end]() mutable {
      on_read(id, std::move(pieces), end);
    });
    shared->notify();
  });
  if (!posted) end_stream(id, Status::unavailable("the transport is stopping"));
}

void IoLoop::on_read(uint64_t id, Result<std::vector<Bytes>> pieces, bool end) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& s = *it->second;
  s.reading = false;
  if (!pieces.is_ok()) {
    end_stream(id, pieces.status().with_context("snapshot to " + s.to + ": reading the image"));
    return;
  }
  s.end = end;
  for (Bytes& piece : *pieces) s.pending.push_back(std::move(piece));
  pump_stream(s);
}

void IoLoop::pump_stream(Stream& s) {
  const uint64_t id = s.id;
  KJ_IF_MAYBE (sink, s.sink) {
    while (!s.pending.empty() && s.in_flight < options_.snapshot_chunks_in_flight_max) {
      Bytes piece = std::move(s.pending.front());
      s.pending.pop_front();
      auto call = sink->chunkRequest(capnp::MessageSize{piece.size() / 8 + 8, 0});
      call.setOffset(s.offset);
      call.setData(
          capnp::Data::Reader(reinterpret_cast<const kj::byte*>(piece.data()), piece.size()));
      s.offset += piece.size();
      ++s.in_flight;
      const uint64_t size = piece.size();
      tasks_->add(within(*timer_, options_.snapshot_call_timeout_ms, call.send().ignoreResult(),
                         "snapshot chunk to " + s.to)
                      .then(
                          [this, id, size]() {
                            counters_.update(
                                [&](TransportStats& st) { st.snapshot_bytes_sent += size; });
                            auto it = streams_.find(id);
                            if (it == streams_.end()) return;
                            --it->second->in_flight;
                            pump_stream(*it->second);
                          },
                          [this, id, to = s.to](kj::Exception&& e) {
                            end_stream(id, from_exception(e, "snapshot to " + to));
                          }));
    }
    request_read(s);
    if (s.end && s.pending.empty() && s.in_flight == 0 && !s.reading && !s.finishing) {
      s.finishing = true;
      auto call = sink->doneRequest();
      call.setSize(s.offset);
      tasks_->add(within(*timer_, options_.snapshot_call_timeout_ms, call.send().ignoreResult(),
                         "snapshot to " + s.to)
                      .then([this, id]() { end_stream(id, Status::ok()); },
                            [this, id, to = s.to](kj::Exception&& e) {
                              end_stream(id, from_exception(e, "snapshot to " + to));
                            }));
    }
  }
}

void IoLoop::end_stream(uint64_t id, Status status) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  std::unique_ptr<Stream> s = std::move(it->second);
  streams_.erase(it);
  {
    std::lock_guard lock(shared_.mu);
    --shared_.snapshots_sending;
  }
  counters_.update([&](TransportStats& st) {
    if (status.is_ok()) {
      ++st.snapshots_sent;
    } else {
      ++st.snapshots_failed;
    }
  });
  Transport::SnapshotDone done = std::move(s->done);
  // Dropping the sink and the connection tells the receiver, if the stream failed, that it is
  // over. Deferred: this may run inside a continuation of that very connection.
  tasks_->add(kj::evalLater([s = std::move(s)]() {}));
  done(std::move(status));
}

void IoLoop::fail_all_streams() {
  while (!streams_.empty()) {
    const uint64_t id = streams_.begin()->first;
    std::unique_ptr<Stream> s = std::move(streams_.begin()->second);
    streams_.erase(streams_.begin());
    {
      std::lock_guard lock(shared_.mu);
      --shared_.snapshots_sending;
    }
    counters_.update([](TransportStats& st) { ++st.snapshots_failed; });
    (void)id;
    s->done(Status::unavailable("snapshot to " + s->to + ": the transport stopped"));
  }
}

}  // namespace tessera::raft::transport
