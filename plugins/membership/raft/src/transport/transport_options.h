// TransportOptions: every bound of the raft transport, with its default.
//
// Purpose: the transport keeps a bounded queue per peer, a few batches in flight per peer, and
// streams snapshot images in bounded chunks with a bounded window; these are the numbers. A
// full queue drops (and counts) what does not fit: Raft resends. Thread-safety: plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tessera/status.h"
#include "transport/codec.h"

namespace tessera {
class PeerDialer;  // peer_dialer.h
}  // namespace tessera

namespace tessera::raft::transport {

struct TransportOptions {
  // The name the peer's node offers the service under (PeerLink.peer).
  std::string service_name = "raft";
  // Opens the authenticated link to a peer's node (the host's, PluginContext::peer_dialer;
  // borrowed, outlives the transport), from which the service is asked for. Null: the service
  // is asked of the peer's bootstrap directly (Tessera.peer), which only a host that serves
  // it itself answers (tessera-raft-host, a test host on loopback); a node refuses it.
  const PeerDialer* dialer = nullptr;

  // Per peer: messages waiting for a send call, by encoded bytes and by count. What does not
  // fit is dropped (dropped_queue_full).
  size_t queue_bytes_max = size_t{16} << 20;
  size_t queue_messages_max = size_t{1} << 16;
  // One send call carries everything that waits for its peer, up to these bounds (at least
  // one message).
  size_t batch_bytes_max = size_t{2} << 20;
  size_t batch_messages_max = 8192;
  // A single message larger than this is dropped on send (dropped_too_large). Raft's appends
  // are bounded far below (Options::append_bytes_max) unless one entry is that large.
  size_t message_bytes_max = size_t{16} << 20;
  // Send calls unanswered per peer; what arrives meanwhile waits and is coalesced.
  size_t batches_in_flight_max = 4;
  // Peers with a queue; a message for one more is dropped (dropped_unreachable).
  size_t peers_max = 1024;

  // A connection that is not up (TCP connect, authentication and PeerLink.peer) within this
  // is given up.
  uint32_t connect_timeout_ms = 3000;
  // A call unanswered this long fails its connection (a stalled or partitioned peer): the
  // connection is dropped and opened again after a backoff.
  uint32_t call_timeout_ms = 5000;
  // After a failure, messages for the peer are dropped (dropped_unreachable) for a backoff
  // that doubles from min to max with each failure in a row and resets on success.
  uint32_t backoff_ms_min = 50;
  uint32_t backoff_ms_max = 2000;

  // Snapshot images: chunks of at most this many bytes (larger chunks of the image are split),
  // at most this many unanswered per stream, at most this many streams out and in at once.
  size_t snapshot_chunk_bytes_max = size_t{1} << 20;
  size_t snapshot_chunks_in_flight_max = 4;
  size_t snapshots_sending_max = 4;
  size_t snapshots_receiving_max = 4;
  // A chunk unanswered this long fails its stream (the receiver's disk may be slow).
  uint32_t snapshot_call_timeout_ms = 30000;

  // What a received message may hold.
  DecodeLimits decode;

  // InvalidArgument naming the first bound that is 0 or inconsistent with another.
  Status validate() const;
};

}  // namespace tessera::raft::transport
