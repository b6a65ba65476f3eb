// Transport: raft message batches and snapshot images between nodes, over Cap'n Proto.
//
// Purpose: the raft plugin's network. Outgoing, send() queues messages of any number of groups
// for one node, and a thread of the transport's own (with its own KJ event loop) sends them:
// one connection per peer, opened on first use from the address the plugin's resolver gives,
// reused, opened again after a failure with a backoff; at most `batches_in_flight_max` send
// calls unanswered per peer (pipelined on the connection), and everything that waits for a peer
// meanwhile goes out coalesced in the next call. Each peer has a bounded queue: when it is full,
// or the peer is unreachable, messages are dropped and counted (Raft resends), so a slow,
// stalled or dead peer never holds up the caller or the other peers. send_snapshot() streams a
// state-machine image beside its kSnapshot message on a connection of its own, in chunks of at
// most `snapshot_chunk_bytes_max` with a bounded window, reading the image lazily on another
// thread of the transport, so that neither memory nor any message grows with the image.
//
// Incoming, the node serves the transport's peer_service() (Tessera.peer, on the node's own RPC
// port; raft_peer.capnp): batches are decoded, malformed messages dropped and counted, and the
// rest handed to `Handlers::batch` on the node's event-loop thread; an image is written through
// the sink `Handlers::snapshot` makes, on a thread of the transport, and the sender learns of
// any failure (the stream fails with the sink's error).
//
// The wire carries no authentication yet (issue 12), like the AP profile's Replica.
//
// Thread-safety: send, send_snapshot and stats may be called from any thread, concurrently.
// Ownership: start() returns the only owner; destroying the Transport stops its threads, drops
// what is queued (dropped_stopped), fails the snapshots under way (their `done` is called with
// Unavailable) and makes the peer service's capabilities fail; no handler runs after it
// returned. The node must drop the capabilities before the plugin's library is unloaded
// (tessera/peer_service.h).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/peer_service.h"
#include "tessera/replication.h"
#include "tessera/status.h"
#include "transport/codec.h"
#include "transport/transport_options.h"
#include "transport/transport_stats.h"

namespace tessera::raft::transport {

// Receives one snapshot image, chunk by chunk, on the transport's receiving thread. Destroyed
// without a successful finish() (the sender failed or went away, a chunk failed): the stream
// is aborted and the sink discards what it staged.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  // The image's next bytes, in order. A non-OK status fails the stream (the sender is told).
  virtual Status append(ByteView chunk) = 0;
  // The image is complete: make it durable, then hand the snapshot message (given when the
  // sink was made) to the group. A non-OK status fails the stream.
  virtual Status finish() = 0;
};

class Transport {
 public:
  // Where a node listens ("host:port"), or nullopt when unknown: its messages are dropped
  // (dropped_unreachable). Called on the transport's thread when a connection is opened; must
  // be thread-safe and not block.
  using AddressResolver = std::function<std::optional<std::string>(const NodeId&)>;
  // Messages from node `from` that decoded. Called on the node's event-loop thread; must not
  // block (queue them for the driver).
  using BatchHandler = std::function<void(const NodeId& from, std::vector<GroupMessage>)>;
  // A sink for the image of kSnapshot message `message` from `from`, or the error that refuses
  // the stream. Called on the transport's receiving thread (it may create files).
  using SnapshotHandler = std::function<Result<std::unique_ptr<SnapshotSink>>(
      const NodeId& from, GroupMessage message)>;
  // The end of a stream: OK once the receiver finished it. Called on a transport thread; must
  // not block.
  using SnapshotDone = std::function<void(Status)>;

  struct Handlers {
    AddressResolver address_of;
    BatchHandler batch;
    SnapshotHandler snapshot;
  };

  // Starts the transport of node `self` (sent as `from`). InvalidArgument for options that do
  // not validate or a handler that is missing.
  static Result<std::unique_ptr<Transport>> start(const NodeId& self, TransportOptions options,
                                                  Handlers handlers);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Queues `messages` for node `to`, in order after what was queued for it before; never
  // blocks. Messages that do not fit the peer's queue, that are too large, or whose peer is
  // unreachable are dropped and counted. Sending to oneself works like sending to any node.
  void send(const NodeId& to, std::vector<GroupMessage> messages);

  // Streams `image` to node `to` beside `message` (a kSnapshot), reading it lazily; `done` is
  // called once, with OK when the receiver finished the stream, else with why it failed
  // (Unavailable for the network or the receiver, Timeout, the image's read error).
  // Busy, with `done` not called, when snapshots_sending_max streams are under way.
  // REQUIRES: message.message.type == kSnapshot; image != nullptr; done.
  Status send_snapshot(const NodeId& to, GroupMessage message,
                       std::unique_ptr<SnapshotChunks> image, SnapshotDone done);

  // The service the node hands its peers (Membership::peer_service(options.service_name)).
  // Owned by the transport.
  PeerService* peer_service();

  TransportStats stats() const;

  struct Impl;

 private:
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::raft::transport
