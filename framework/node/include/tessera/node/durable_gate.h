// DurableGate: the requests of one event-loop turn that wait for durability share one wait.
//
// A request served on the loop (LocalPath's first attempt) that wrote, or read what a write not
// yet synced left, calls wait(). The first such request of a turn opens a batch; at the end of
// the turn (kj::evalLast, after every request the turn read from its sockets) the batch asks the
// store once (LocalStore::when_durable), and the engine's sync callback wakes the loop once for
// all of them. So a group of N writers costs one engine waiter and one cross-thread wake-up,
// not N: what Redis does by syncing its append-only file before it sleeps.
//
// Bounded: each waiting request counts as in flight in the worker pool (Busy past
// requests_in_flight_max), though it holds no worker.
//
// Thread-safety: the event loop thread only. Ownership: borrows the store and the pool, which
// outlive it; a batch the gate leaves behind at destruction still completes harmlessly.
#pragma once

#include <kj/async.h>

#include <memory>
#include <type_traits>
#include <utility>

#include "tessera/node/local_store.h"
#include "tessera/node/worker_pool.h"
#include "tessera/status.h"

namespace tessera::node {

class DurableGate {
 public:
  DurableGate(LocalStore* store, WorkerPool* pool);
  ~DurableGate() noexcept(false);

  // OK once every write visible now is durable (at once when none awaits a sync), the sync's
  // error, or Busy.
  kj::Promise<Status> wait();

  // A store call (`call(Waiting)` returning a Status or a Result) served without a thread when
  // it can: it runs first here, on the loop, with Waiting::kNever; only when it would wait
  // (WouldBlock) does it run again on the pool. Either way the answer waits until what it wrote
  // or read is durable (wait(), or run_durable on the pool).
  template <typename Call>
  auto serve(Call call) {
    using R = std::invoke_result_t<Call, Waiting>;
    R now = call(Waiting::kNever);
    if (status_of(now).code() == StatusCode::kWouldBlock) {
      return run_durable(*pool_, store_, [call = std::move(call)]() { return call(Waiting::kMay); });
    }
    if (!status_of(now).is_ok() || store_->durable_now()) return kj::Promise<R>(std::move(now));
    return wait().then([now = std::move(now)](Status synced) mutable -> R {
      if (!synced.is_ok()) return synced;
      return std::move(now);
    });
  }

  // Batches asked for so far, and the requests they served (for tests and stats).
  uint64_t batches() const { return batches_; }
  uint64_t waiters() const { return waiters_; }

 private:
  static const Status& status_of(const Status& status) { return status; }
  template <typename T>
  static const Status& status_of(const Result<T>& result) {
    return result.status();
  }

  struct Batch;
  class ErrorHandler final : public kj::TaskSet::ErrorHandler {
   public:
    void taskFailed(kj::Exception&& exception) override;
  };
  void ask();

  LocalStore* const store_;
  WorkerPool* const pool_;
  kj::Own<Batch> open_;  // collecting this turn's waiters; null when none
  ErrorHandler errors_;
  kj::TaskSet tasks_{errors_};
  uint64_t batches_ = 0;
  uint64_t waiters_ = 0;
};

}  // namespace tessera::node
