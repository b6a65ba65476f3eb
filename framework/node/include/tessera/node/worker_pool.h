// WorkerPool: the bridge between the node's KJ event loop and blocking engine work.
//
// The RPC server runs on one KJ event loop thread, which must never block on a disk. run() posts
// a job to a Boost.Asio thread pool and returns a KJ promise that the job's result fulfills back
// on the loop thread (through a KJ cross-thread fulfiller). The number of jobs queued or running
// is bounded: past `in_flight_max`, run() answers Busy at once instead of queueing.
//
// Thread-safety: run() is called from the event loop thread only. Jobs run on pool threads and
// must be safe to run concurrently. Destruction runs every queued job and waits for all of them;
// a job whose promise was dropped still runs to completion and its result is discarded, so a
// job must not capture anything that may die before the pool (see ClientService).
//
// Jobs report errors as Status values. One that throws anyway (std::bad_alloc, say) answers
// Internal naming the exception: an exception escaping a pool thread would end the process.
//
// run_deferred() is for a job whose answer comes after it returns (a durable write answers from
// the engine's sync callback): the job answers through a Reply, from any thread, and the
// request counts as in flight until then, so requests waiting for an fsync are bounded too, but
// hold no thread. run_durable() is the common case: a store call answered once what it wrote
// or read is durable. count_in() counts a request that waits on the loop thread itself
// (DurableGate).
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <kj/async.h>

#include "tessera/status.h"

namespace tessera::node {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t in_flight_max)
      : pool_(threads), in_flight_max_(in_flight_max) {}
  ~WorkerPool() { pool_.join(); }

  size_t in_flight() const { return in_flight_->load(std::memory_order_relaxed); }

  // One request counted as in flight while alive: a job queued or running, a deferred job not
  // yet answered, or a request that waits on the loop thread itself (DurableGate).
  class InFlight {
   public:
    explicit InFlight(std::shared_ptr<std::atomic<size_t>> count) : count_(std::move(count)) {}
    InFlight(InFlight&&) = default;
    InFlight& operator=(InFlight&& other) noexcept {
      std::swap(count_, other.count_);  // `other` releases what this counted
      return *this;
    }
    ~InFlight() {
      if (count_ != nullptr) count_->fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    std::shared_ptr<std::atomic<size_t>> count_;
  };
  // Busy past in_flight_max.
  Result<InFlight> count_in() {
    if (in_flight_->fetch_add(1, std::memory_order_relaxed) < in_flight_max_) {
      return InFlight(in_flight_);
    }
    in_flight_->fetch_sub(1, std::memory_order_relaxed);
    return Status::busy("over " + std::to_string(in_flight_max_) +
                        " requests in flight (requests_in_flight_max); retry later");
  }

  // The answer of a run_deferred() job: call it once, from any thread. Copies share one
  // answer; only the first call counts. Dropped unanswered (a bug), it answers Internal.
  template <typename R>
  class Reply {
   public:
    void operator()(R result) const { state_->answer(std::move(result)); }

   private:
    friend class WorkerPool;
    struct State {
      State(InFlight slot, kj::Own<kj::CrossThreadPromiseFulfiller<R>> fulfiller)
          : slot(std::move(slot)), fulfiller(kj::mv(fulfiller)) {}
      ~State() { answer(R(Status::internal("a deferred worker job never answered"))); }
      void answer(R result) {
        if (answered.exchange(true)) return;
        { InFlight done = std::move(slot); }
        fulfiller->fulfill(std::move(result));
      }
      // Its count is shared: an engine may hold a reply past the pool (until its last sync
      // callback).
      InFlight slot;
      kj::Own<kj::CrossThreadPromiseFulfiller<R>> fulfiller;
      std::atomic<bool> answered{false};
    };
    explicit Reply(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };

  // Runs `job(Reply<R>)` on a worker thread; the promise resolves when the reply is called.
  template <typename R, typename Job>
  kj::Promise<R> run_deferred(Job job) {
    Result<InFlight> slot = count_in();
    if (!slot.is_ok()) return R(slot.status());
    auto paf = kj::newPromiseAndCrossThreadFulfiller<R>();
    Reply<R> reply(std::make_shared<typename Reply<R>::State>(std::move(slot).value(),
                                                              kj::mv(paf.fulfiller)));
    boost::asio::post(pool_, [job = std::move(job), reply]() mutable {
      auto answer_through_reply = [&] {
        job(reply);
        return Status::ok();
      };
      Status thrown = run_guarded<Status>(answer_through_reply);
      if (!thrown.is_ok()) reply(R(std::move(thrown)));
    });
    return kj::mv(paf.promise);
  }

  // Runs `job` (returning a Status or a Result<T>) on a worker thread.
  template <typename Job, typename R = std::invoke_result_t<Job>>
  kj::Promise<R> run(Job job) {
    Result<InFlight> slot = count_in();
    if (!slot.is_ok()) return R(slot.status());
    auto paf = kj::newPromiseAndCrossThreadFulfiller<R>();
    boost::asio::post(pool_, [job = std::move(job), slot = std::move(slot).value(),
                              fulfiller = kj::mv(paf.fulfiller)]() mutable {
      R result = run_guarded<R>(job);
      { InFlight done = std::move(slot); }
      fulfiller->fulfill(std::move(result));
    });
    return kj::mv(paf.promise);
  }

 private:

  template <typename R, typename Job>
  static R run_guarded(Job& job) {
    try {
      return job();
    } catch (const std::exception& e) {
      return R(Status::internal(std::string("a worker job threw: ") + e.what()));
    } catch (...) {
      return R(Status::internal("a worker job threw a non-standard exception"));
    }
  }

  boost::asio::thread_pool pool_;
  const size_t in_flight_max_;
  const std::shared_ptr<std::atomic<size_t>> in_flight_ =
      std::make_shared<std::atomic<size_t>>(0);
};

// Runs `job` (returning a Status or a Result<T>) on `pool` and answers once `store` says that
// what it wrote or read is durable (LocalStore::when_durable). A job that failed answers at
// once. A failed sync answers its error: the write is applied but may not survive a crash.
template <typename Store, typename R>
void reply_when_durable(Store* store, WorkerPool::Reply<R> reply, R result) {
  if (!result.is_ok()) return reply(std::move(result));
  auto kept = std::make_shared<R>(std::move(result));
  store->when_durable([reply, kept](Status synced) {
    reply(synced.is_ok() ? std::move(*kept) : R(std::move(synced)));
  });
}

template <typename Store, typename Job, typename R = std::invoke_result_t<Job>>
kj::Promise<R> run_durable(WorkerPool& pool, Store* store, Job job) {
  return pool.run_deferred<R>([store, job = std::move(job)](WorkerPool::Reply<R> reply) mutable {
    reply_when_durable(store, std::move(reply), job());
  });
}


}  // namespace tessera::node
