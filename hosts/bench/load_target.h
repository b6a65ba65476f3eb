// LoadTarget: one connection of a load run to one server, in the server's own protocol.
//
// The load driver (load_driver.h) owns one LoadTarget per connection, on the event loop of the
// thread that made it, and keeps up to `pipeline` sends outstanding on it at once. A target
// turns a LoadRequest into the server's request and its answer into a LoadAnswer; it does not
// time, count or retry anything.
//
// Errors: an answer the server gives (a typed error, an HTTP error status) is a LoadAnswer with
// that code; a broken connection or a malformed answer rejects the promise with a kj::Exception,
// after which the driver sends nothing more on this connection.
//
// Thread-safety: none; a target lives and is used on one event-loop thread.
#pragma once

#include <kj/async-io.h>
#include <kj/async.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>

#include "load_options.h"
#include "tessera/bytes.h"
#include "tessera/status.h"
#include "workload.h"

namespace tessera::bench {

struct LoadRequest {
  bool read = false;  // a get of `key`; else a put of `value` under `key`
  uint64_t key = 0;   // the key's index (Workload::fill_key)
  ByteView value;     // puts only; valid until the send's promise resolves
  bool want_value = false;  // gets: return the value read in LoadAnswer::value (histories)
};

struct LoadAnswer {
  StatusCode code = StatusCode::kOk;
  bool found = true;  // gets: the key had a value
  Bytes value;        // gets with want_value that found a value
};

class LoadTarget {
 public:
  // noexcept(false) like kj::Own, which implementations hold.
  virtual ~LoadTarget() noexcept(false) = default;

  // Opens the connection and checks that the server speaks the expected protocol and version.
  // Resolves to OK, or to Unavailable / NotSupported naming the address; never rejects.
  virtual kj::Promise<Status> connect() = 0;

  // Sends one request. REQUIRES: connect() resolved to OK. May be called again before earlier
  // sends resolve, up to the run's pipeline depth (a target that cannot pipeline says so
  // through pipeline_max()).
  virtual kj::Promise<LoadAnswer> send(const LoadRequest& request) = 0;

  // Writes keys [first, first + count) with values from `rng` (the preload), in one request
  // where the server takes batches. REQUIRES: count <= preload_batch_max().
  virtual kj::Promise<LoadAnswer> preload(uint64_t first, uint64_t count, std::mt19937_64& rng) = 0;

  // Keys one preload() call may write; may fall to 1 after a server refused batches.
  virtual uint64_t preload_batch_max() const = 0;
};

// Makes the target of one connection to `address` on the event loop `io`. `workload` is the
// calling thread's copy and outlives the target.
using LoadTargetFactory = std::function<kj::Own<LoadTarget>(
    kj::AsyncIoContext& io, const std::string& address, Workload& workload)>;

}  // namespace tessera::bench
