// TransportStats: what the raft transport did, since it started.
//
// Purpose: counters for the plugin's stats and for tests; every drop is counted by reason.
// All are totals since start except the two gauges.
// Thread-safety: plain value (Transport::stats() returns a copy).
#pragma once

#include <cstdint>

namespace tessera::raft::transport {

struct TransportStats {
  // Outgoing: send calls answered by the peer, the messages in them, their encoded bytes.
  uint64_t batches_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  // Incoming: send calls received, the messages in them that decoded and were handed on, and
  // the calls' encoded bytes.
  uint64_t batches_received = 0;
  uint64_t messages_received = 0;
  uint64_t bytes_received = 0;

  // Outgoing messages dropped, by reason.
  uint64_t dropped_queue_full = 0;   // the peer's queue was at a bound
  uint64_t dropped_too_large = 0;    // one message over message_bytes_max
  uint64_t dropped_unreachable = 0;  // no address, in backoff after a failure, peers_max
  uint64_t dropped_send_failed = 0;  // in a send call that failed or timed out
  uint64_t dropped_stopped = 0;      // queued when the transport stopped
  // Incoming messages dropped because they did not decode (codec.h), and batches refused
  // because the transport was stopping.
  uint64_t dropped_malformed = 0;
  uint64_t batches_refused = 0;

  // Connections: opened (TCP connect and Tessera.peer answered), failed (connect, call or
  // timeout), and the opens that followed a failure.
  uint64_t connects = 0;
  uint64_t connection_failures = 0;
  uint64_t reconnects = 0;

  // Gauges, now: messages (and their encoded bytes) waiting in every peer's queue.
  uint64_t queued_messages = 0;
  uint64_t queued_bytes = 0;

  // Snapshot streams out: finished, failed, refused at once (sending bound); image bytes sent.
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_failed = 0;
  uint64_t snapshots_refused = 0;
  uint64_t snapshot_bytes_sent = 0;
  // Snapshot streams in: finished, failed (or aborted by the sender), refused (receiving
  // bound, malformed message, the handler refused); image bytes received.
  uint64_t snapshots_received = 0;
  uint64_t snapshots_receive_failed = 0;
  uint64_t snapshots_receive_refused = 0;
  uint64_t snapshot_bytes_received = 0;
};

}  // namespace tessera::raft::transport
