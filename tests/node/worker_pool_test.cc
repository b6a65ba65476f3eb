#include "tessera/node/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <kj/async-io.h>

namespace tessera::node {
namespace {

TEST(WorkerPool, RunsJobsOffTheLoopAndFulfillsOnIt) {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  WorkerPool pool(2, 8);
  const std::thread::id loop_thread = std::this_thread::get_id();
  auto job = []() { return Result<std::thread::id>(std::this_thread::get_id()); };
  Result<std::thread::id> ran = pool.run(job).wait(io.waitScope);
  ASSERT_TRUE(ran.is_ok());
  EXPECT_NE(*ran, loop_thread);
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(WorkerPool, AJobThatThrowsAnswersInternalAndFreesItsSlot) {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  WorkerPool pool(1, 1);
  Status thrown = pool.run([]() -> Status { throw std::runtime_error("disk on fire"); })
                      .wait(io.waitScope);
  EXPECT_EQ(thrown.code(), StatusCode::kInternal);
  EXPECT_NE(thrown.message().find("disk on fire"), std::string::npos) << thrown.to_string();
  Status odd = pool.run([]() -> Status { throw 42; }).wait(io.waitScope);
  EXPECT_EQ(odd.code(), StatusCode::kInternal);
  // The slot came back: the one-job pool takes the next job.
  EXPECT_TRUE(pool.run([] { return Status::ok(); }).wait(io.waitScope).is_ok());
}

TEST(WorkerPool, OverTheBoundAnswersBusyAtOnce) {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  WorkerPool pool(1, 1);
  std::atomic<bool> release{false};
  kj::Promise<Status> slow = pool.run([&release] {
    for (int i = 0; i < 5000 && !release; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return Status::ok();
  });
  Status busy = pool.run([] { return Status::ok(); }).wait(io.waitScope);
  EXPECT_EQ(busy.code(), StatusCode::kBusy);
  EXPECT_NE(busy.message().find("requests_in_flight_max"), std::string::npos);
  release = true;
  EXPECT_TRUE(slow.wait(io.waitScope).is_ok());
}

TEST(WorkerPool, ADroppedPromiseLetsItsJobFinishBeforeThePoolGoes) {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  std::atomic<int> finished{0};
  {
    WorkerPool pool(1, 16);
    for (int i = 0; i < 8; ++i) {
      (void)pool.run([&finished] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ++finished;
        return Status::ok();
      });
    }
  }
  EXPECT_EQ(finished.load(), 8);
}

// A deferred job returns at once and answers later from another thread, as a durable write
// answers from an engine's sync callback: the worker is free meanwhile, the request still
// counts against the bound until it is answered.
TEST(WorkerPool, ADeferredJobHoldsItsSlotButNotItsThread) {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  WorkerPool pool(1, 2);
  std::mutex mutex;
  std::optional<WorkerPool::Reply<Result<int>>> held;
  kj::Promise<Result<int>> deferred =
      pool.run_deferred<Result<int>>([&](WorkerPool::Reply<Result<int>> reply) {
        std::lock_guard lock(mutex);
        held = reply;
      });
  // The one worker thread is free: an ordinary job runs while the first waits for its answer.
  EXPECT_TRUE(pool.run([] { return Status::ok(); }).wait(io.waitScope).is_ok());
  EXPECT_EQ(pool.in_flight(), 1u);
  std::thread answerer([&] {
    std::lock_guard lock(mutex);
    (*held)(Result<int>(7));
    (*held)(Result<int>(8));  // only the first answer counts
  });
  Result<int> answer = deferred.wait(io.waitScope);
  answerer.join();
  ASSERT_TRUE(answer.is_ok());
  EXPECT_EQ(*answer, 7);
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(WorkerPool, ADeferredJobDroppedUnansweredAnswersInternal) {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  WorkerPool pool(1, 2);
  Status dropped = pool.run_deferred<Status>([](WorkerPool::Reply<Status>) {}).wait(io.waitScope);
  EXPECT_EQ(dropped.code(), StatusCode::kInternal) << dropped.to_string();
  EXPECT_EQ(pool.in_flight(), 0u);
}

}  // namespace
}  // namespace tessera::node
