// ClientLoops: event-loop threads that serve client connections beside the node's main loop.
//
// The main loop accepts every connection (one listener, one set of limits: client_connections.h)
// and the node hands each in turn to a loop, round robin, the main loop included. A connection
// is served whole by one loop (its reads, its calls, their answers) on a request path the
// profile made for that loop (Profile::path_for_loop), so a request changes threads only when
// its store call must wait (the worker pool) or await an fsync.
//
// Handing over moves the socket: the main loop duplicates its descriptor, drops its own stream,
// and queues the descriptor on the loop's executor, which wraps it again. A descriptor queued
// to a loop that stops first is closed.
//
// Thread-safety: made, used and destroyed on the main loop thread. Ownership: borrows the
// profile, which outlives it; every loop has dropped its path and service when the destructor
// returns, before the profile stops serving.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "client_connections.h"
#include "tessera/node/client_service.h"
#include "tessera/node/profile.h"
#include "tessera/status.h"

namespace tessera::node {

class ClientLoops {
 public:
  // The client services of a loop's connections, over its own path and timer; called on that
  // loop's thread.
  using MakeService =
      std::function<std::unique_ptr<ClientServices>(RequestPath* path, kj::Timer& timer)>;

  // Starts `loops` threads. None when the profile serves from the main loop only (its
  // path_for_loop() is null); an error when a thread cannot set up its event loop.
  // With `tls`, each loop serves TLS with a server context of its own (its timer bounds the
  // handshakes).
  static Result<std::unique_ptr<ClientLoops>> start(size_t loops, Profile& profile,
                                                    MakeService make_service,
                                                    uint32_t idle_timeout_ms,
                                                    std::shared_ptr<const TlsMaterial> tls);
  ~ClientLoops() noexcept(false);

  size_t size() const { return loops_.size(); }
  // Serves `connection` on loop `index` (< size()).
  void serve(size_t index, kj::Own<kj::AsyncIoStream> connection, ConnectionToken token);

 private:
  struct Loop {
    std::thread thread;
    // Set by the loop's thread before it reports ready; used only while it runs.
    const kj::Executor* executor = nullptr;
    kj::AsyncIoContext* io = nullptr;
    ConnectionServer* server = nullptr;
    kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop;
    std::promise<Status> ready;
  };
  class ErrorHandler final : public kj::TaskSet::ErrorHandler {
   public:
    void taskFailed(kj::Exception&& exception) override;
  };
  explicit ClientLoops(uint32_t idle_timeout_ms) : idle_timeout_ms_(idle_timeout_ms) {}
  static void run(Loop* loop, Profile* profile, MakeService make_service,
                  std::shared_ptr<const TlsMaterial> tls);

  const uint32_t idle_timeout_ms_;
  std::vector<std::unique_ptr<Loop>> loops_;
  ErrorHandler errors_;
  kj::Own<kj::TaskSet> handoffs_ = kj::heap<kj::TaskSet>(errors_);  // queued to a loop, not yet taken
};

}  // namespace tessera::node
