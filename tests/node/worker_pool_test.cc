#include "tessera/node/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

}  // namespace
}  // namespace tessera::node
