// The node's client port: accepting connections within limits, and closing idle ones.
//
// Limits, each logged once per kRefusalsPerLog refusals: past `connections_max` open client
// connections, or `per_address_max` from one client address, a new connection is closed at
// once, so that the clients already connected keep their descriptors and memory. A connection
// that neither sends nor receives a byte for `idle_timeout_ms` (0: never) is closed; a request
// in progress is not idle as long as its answer comes within that time (request deadlines are
// far shorter by default).
//
// An admitted connection goes to `serve`, with the token that gives its place back (on any
// thread: a connection may be served by another event loop, client_loops.h).
//
// Memory: once the open connections fall to half their peak (of at least 256) since the last
// time, the memory closed connections freed is given back to the system (malloc_trim).
//
// Thread-safety: the event loop thread only. Ownership: borrows the listener and the timer;
// both outlive the acceptor.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/compat/tls.h>
#include <kj/timer.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>

namespace tessera::node {

struct ConnectionLimits {
  uint32_t connections_max = 10'000;
  uint32_t per_address_max = 1'000;
  uint32_t idle_timeout_ms = 0;
};

// Gives an admitted connection's place back when its last copy is destroyed.
using ConnectionToken = std::shared_ptr<void>;
using ServeConnection = std::function<void(kj::Own<kj::AsyncIoStream>, ConnectionToken)>;

// Serves Cap'n Proto two-party connections, each with a bootstrap capability of its own (what
// a connection proved, a peer's challenge, stays with that connection), until they close. With
// `tls` (this loop's server context, tls_context.h) every connection is TLS: one whose
// handshake fails or does not finish in time is closed and logged at debug level.
// Thread-safety: the event loop thread that made it. Destroying it ends every connection.
class ConnectionServer {
 public:
  using MakeBootstrap = std::function<capnp::Capability::Client()>;
  explicit ConnectionServer(MakeBootstrap make_bootstrap, kj::Own<kj::TlsContext> tls = {});
  ~ConnectionServer() noexcept(false);

  void accept(kj::Own<kj::AsyncIoStream> connection);

 private:
  struct Connection;
  void serve(kj::Own<kj::AsyncIoStream> connection);
  class ErrorHandler final : public kj::TaskSet::ErrorHandler {
   public:
    void taskFailed(kj::Exception&& exception) override;
  };
  const MakeBootstrap make_bootstrap_;
  kj::Own<kj::TlsContext> tls_;
  ErrorHandler errors_;
  kj::Own<kj::TaskSet> connections_ = kj::heap<kj::TaskSet>(errors_);
};

// Serves `connection` on `server` (this loop's), closing it once idle for `idle_timeout_ms`
// (0: never); the token goes with the connection.
void serve_connection(ConnectionServer& server, kj::Timer& timer, uint32_t idle_timeout_ms,
                      kj::Own<kj::AsyncIoStream> connection, ConnectionToken token);

class ClientAcceptor {
 public:
  ClientAcceptor(kj::ConnectionReceiver& listener, kj::Timer& timer, ConnectionLimits limits,
                 ServeConnection serve);

  // Accepts until cancelled. A failed accept (EMFILE when every descriptor is taken, ENOBUFS,
  // ...) does not end it: it is logged and retried after a pause, so that a persistent failure
  // does not spin the event loop and the next accept succeeds once clients hang up.
  kj::Promise<void> run() { return accept_next(0); }

 private:
  struct Counts {
    std::mutex mutex;  // tokens are released on the loops that serve their connections
    uint32_t open = 0;
    std::map<std::string, uint32_t> by_address;
    uint32_t refused = 0;
    uint32_t peak_since_trim = 0;  // the most open at once since memory was last given back
  };

  kj::Promise<void> accept_next(uint32_t failures);
  void admit(kj::Own<kj::AsyncIoStream> connection);

  kj::ConnectionReceiver& listener_;
  kj::Timer& timer_;
  const ConnectionLimits limits_;
  const ServeConnection serve_;
  // Shared with every admitted connection, which gives its place back as it ends (possibly
  // after the acceptor is gone).
  std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();
};

// Raises this process's soft limit of open descriptors to its hard limit, so that the node can
// hold as many connections as the system lets it; logs what it got, and warns when
// `connections_max` leaves too few for files and peers.
void raise_descriptor_limit(uint32_t connections_max);

}  // namespace tessera::node
