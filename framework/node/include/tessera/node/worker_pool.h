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
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <string>
#include <type_traits>

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

  size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

  // Runs `job` (returning a Status or a Result<T>) on a worker thread.
  template <typename Job, typename R = std::invoke_result_t<Job>>
  kj::Promise<R> run(Job job) {
    if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= in_flight_max_) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      return R(Status::busy("over " + std::to_string(in_flight_max_) +
                            " requests in flight (requests_in_flight_max); retry later"));
    }
    auto paf = kj::newPromiseAndCrossThreadFulfiller<R>();
    boost::asio::post(pool_, [this, job = std::move(job),
                              fulfiller = kj::mv(paf.fulfiller)]() mutable {
      R result = run_guarded<R>(job);
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
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
  std::atomic<size_t> in_flight_{0};
};

}  // namespace tessera::node
