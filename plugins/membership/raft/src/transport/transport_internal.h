// What the transport's source files share: the state senders and the IO thread hand over under
// one mutex, the counters, and the IO thread's and the receiving side's classes. Internal to
// tessera_raft_transport.
//
// Threads: callers of send()/send_snapshot() only touch `Shared` (under its mutex) and wake the
// IO thread through a kj::CrossThreadPromiseFulfiller; the IO thread (IoLoop, its own KJ event
// loop) owns every outgoing connection; the reader JobThread calls SnapshotChunks::next() and
// posts what it read back to the IO thread through `Shared`; the receiving side runs on the
// node's event loop and hands sink work to the writer JobThread (Endpoint).
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "peer_dialer.h"
#include "tessera/rpc/tessera.capnp.h"
#include "transport/job_thread.h"
#include "transport/raft_peer.capnp.h"
#include "transport/transport.h"

namespace tessera::raft::transport {

// The counters behind TransportStats, shared by every thread of the transport (and by the
// receiving side's capabilities, which may outlive it).
class Counters {
 public:
  template <typename F>
  void update(F f) {
    std::lock_guard lock(mu_);
    f(stats_);
  }
  TransportStats get() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  mutable std::mutex mu_;
  TransportStats stats_;
};

// Messages waiting for one peer.
struct PeerQueue {
  std::deque<GroupMessage> messages;
  size_t bytes = 0;          // encoded_bytes() of `messages`
  bool unreachable = false;  // the peer is in backoff: arrivals are dropped
  bool dirty = false;        // listed in Shared::dirty
};

struct SnapshotRequest {
  NodeId to;
  GroupMessage message;
  std::shared_ptr<SnapshotChunks> image;  // shared with the reader thread's jobs
  Transport::SnapshotDone done;
};

// What other threads hand the IO thread.
struct Shared {
  std::mutex mu;
  std::unordered_map<NodeId, PeerQueue> queues;  // at most peers_max
  std::vector<NodeId> dirty;                     // peers whose queue got messages
  std::vector<SnapshotRequest> snapshots;        // streams to start
  std::vector<kj::Function<void()>> posted;      // to run on the IO thread
  size_t snapshots_sending = 0;                  // requested, not done yet
  bool stopping = false;
  // Set while the IO thread waits for work; fulfilled (and dropped) by whoever brings some.
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> wake;

  // REQUIRES: mu held.
  bool has_work() const {
    return stopping || !dirty.empty() || !snapshots.empty() || !posted.empty();
  }
  // REQUIRES: mu held.
  void notify() {
    if (wake.get() != nullptr) {
      wake->fulfill();
      wake = nullptr;
    }
  }
};

// One outgoing connection: the stream and the RPC system over it (destroyed first).
struct Link : PeerConnection {};

// The IO thread: outgoing connections, send calls, snapshot streams.
class IoLoop {
 public:
  IoLoop(const NodeId& self, const TransportOptions& options,
         const Transport::AddressResolver& address_of, Shared& shared, Counters& counters,
         JobThread& reader);
  ~IoLoop();

  // The thread's body: serves until Shared::stopping. Everything KJ is made and destroyed here.
  void run();

 private:
  struct Peer;
  struct Stream;
  class ErrorHandler : public kj::TaskSet::ErrorHandler {
   public:
    void taskFailed(kj::Exception&& exception) override;
  };

  kj::Promise<void> serve(kj::AsyncIoContext& io);
  bool drain();

  // Messages.
  Peer& peer(const NodeId& id);
  void pump(Peer& peer);
  bool take_batch(Peer& peer, std::vector<GroupMessage>& batch);
  void issue(Peer& peer, std::vector<GroupMessage> batch);
  void fail_peer(Peer& peer, const std::string& why);
  void forget_link(Peer& peer);
  void watch(Peer& peer);

  // A connection to `address`, up once Tessera.peer answered; fails after connect_timeout_ms.
  kj::Promise<rpc::RaftPeer::Client> open(const std::string& address, std::shared_ptr<Link> link);

  // Snapshots (snapshot_stream.cc).
  void start_stream(SnapshotRequest request);
  void request_read(Stream& stream);
  void on_read(uint64_t id, Result<std::vector<Bytes>> pieces, bool end);
  void pump_stream(Stream& stream);
  void end_stream(uint64_t id, Status status);
  void fail_all_streams();

  const NodeId self_;
  const TransportOptions& options_;
  const Transport::AddressResolver& address_of_;
  Shared& shared_;
  Counters& counters_;
  JobThread& reader_;

  // Set by run() for the thread's life.
  kj::Timer* timer_ = nullptr;
  kj::Network* network_ = nullptr;
  std::map<NodeId, std::unique_ptr<Peer>> peers_;
  std::map<uint64_t, std::unique_ptr<Stream>> streams_;
  uint64_t next_stream_id_ = 1;
  ErrorHandler error_handler_;
  // Last: destroyed first, so that no continuation outlives the peers and streams it names.
  kj::Own<kj::TaskSet> tasks_;
};

struct SinkState;  // peer_endpoint.cc

struct IoLoop::Peer {
  NodeId id;
  // The current connection, or null. `generation` grows with every connection given up, so
  // that a late answer on an old one changes nothing.
  std::shared_ptr<Link> link;
  kj::Maybe<rpc::RaftPeer::Client> client;
  uint64_t generation = 0;
  size_t in_flight = 0;     // send calls of this generation unanswered
  uint32_t backoff_ms = 0;  // 0: the last call (or none yet) succeeded
  bool in_backoff = false;
  bool failed_before = false;
  std::string last_failure;  // why the last connection was given up, for a debugger
};

struct IoLoop::Stream {
  uint64_t id = 0;
  NodeId to;
  std::shared_ptr<SnapshotChunks> image;
  Transport::SnapshotDone done;
  std::shared_ptr<Link> link;
  kj::Maybe<rpc::SnapshotSink::Client> sink;
  std::deque<Bytes> pending;  // read, not sent yet
  size_t in_flight = 0;       // chunk calls unanswered
  bool reading = false;
  bool end = false;  // the image has no more chunks
  bool finishing = false;
  uint64_t offset = 0;  // bytes handed to chunk calls
};

// The receiving side: what the peer service's capabilities share. May outlive the Transport
// (a node still holding a capability); close() makes every later call fail.
struct Endpoint {
  Endpoint(const TransportOptions& options, Transport::BatchHandler batch,
           Transport::SnapshotHandler snapshot, std::shared_ptr<Counters> counters);

  // Stops the writer thread and the handlers; no handler runs once it returned.
  void close();

  const TransportOptions options;
  std::shared_ptr<Counters> counters;
  JobThread writer;  // runs SnapshotHandler and SnapshotSink calls

  std::mutex mu;        // held while a handler runs on the node's loop, so close() waits for it
  bool closed = false;  // guarded by mu
  Transport::BatchHandler batch;
  Transport::SnapshotHandler snapshot;  // called on `writer` only

  size_t receiving = 0;  // snapshot streams open; node event-loop thread only

  // Streams open, so that close() can drop their sinks.
  void track(const std::shared_ptr<SinkState>& state);
  std::mutex sinks_mu;
  std::vector<std::weak_ptr<SinkState>> sinks;  // guarded by sinks_mu
};

// An exception for an RPC answer: `type` FAILED, OVERLOADED or DISCONNECTED, `what` the reason.
kj::Exception rpc_exception(kj::Exception::Type type, const std::string& what);

// The Status a failed call's exception stands for.
Status from_exception(const kj::Exception& e, const std::string& context);

// A capability serving one peer connection (peer_endpoint.cc).
capnp::Capability::Client make_raft_peer(std::shared_ptr<Endpoint> endpoint);

}  // namespace tessera::raft::transport
