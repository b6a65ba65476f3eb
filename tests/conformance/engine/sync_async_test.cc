// sync_async: every engine calls each waiter back exactly once, OK, without the caller waiting;
// concurrent writers' waiters are all served; a callback may ask again; an engine destroyed with
// waiters pending calls them before it goes; for durable engines, what a callback confirmed is
// there after reopen.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine_fixture.h"

namespace tessera::conformance {
namespace {

constexpr auto kCallbackWait = std::chrono::seconds(30);

// Counts callbacks and their errors; wait_for() blocks until `n` arrived (or kCallbackWait).
class Callbacks {
 public:
  SyncCallback make() {
    return [this](Status status) {
      std::lock_guard lock(mutex_);
      ++called_;
      if (!status.is_ok()) errors_.push_back(status.to_string());
      changed_.notify_all();
    };
  }
  bool wait_for(size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kCallbackWait, [&] { return called_ >= n; });
  }
  size_t called() {
    std::lock_guard lock(mutex_);
    return called_;
  }
  std::vector<std::string> errors() {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t called_ = 0;
  std::vector<std::string> errors_;
};

using SyncAsync = EngineTest;

TEST_F(SyncAsync, CallsEachWaiterBackOnceAndOk) {
  Callbacks callbacks;
  engine().sync_async(callbacks.make());  // nothing written yet
  put("a", "1");
  engine().sync_async(callbacks.make());
  engine().sync_async(callbacks.make());
  ASSERT_TRUE(callbacks.wait_for(3)) << callbacks.called() << " of 3 callbacks came";
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(callbacks.called(), 3u) << "a waiter was called more than once";
  EXPECT_TRUE(callbacks.errors().empty()) << callbacks.errors().front();
}

TEST_F(SyncAsync, ServesEveryWaiterOfConcurrentWriters) {
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 100;
  Callbacks callbacks;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        put(key, key);
        engine().sync_async(callbacks.make());
      }
    });
  }
  for (std::thread& w : writers) w.join();
  const size_t expected = size_t{kThreads} * kWritesPerThread;
  ASSERT_TRUE(callbacks.wait_for(expected)) << callbacks.called() << " of " << expected;
  EXPECT_TRUE(callbacks.errors().empty()) << callbacks.errors().front();
  EXPECT_EQ(scan({}).size(), expected);
}

TEST_F(SyncAsync, ACallbackMayAskAgain) {
  Callbacks callbacks;
  SyncCallback second = callbacks.make();
  put("a", "1");
  engine().sync_async([&, second](Status status) {
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    engine().sync_async(second);
  });
  ASSERT_TRUE(callbacks.wait_for(1));
  EXPECT_TRUE(callbacks.errors().empty());
}

TEST_F(SyncAsync, AnEngineDestroyedWithWaitersCallsThemFirst) {
  Callbacks callbacks;
  for (int i = 0; i < 50; ++i) {
    put("k" + std::to_string(i), "v");
    engine().sync_async(callbacks.make());
  }
  ASSERT_NO_FATAL_FAILURE(reopen());  // destroys the engine first
  EXPECT_EQ(callbacks.called(), 50u) << "the engine went with waiters never called back";
  EXPECT_TRUE(callbacks.errors().empty()) << callbacks.errors().front();
}

TEST_F(SyncAsync, WhatACallbackConfirmedSurvivesReopen) {
  if (!durable()) GTEST_SKIP() << "the engine under test is not durable (no --durable)";
  Callbacks callbacks;
  for (int i = 0; i < 300; ++i) {
    put("k" + std::to_string(1000 + i), "v" + std::to_string(i));
    if (i % 10 == 9) engine().sync_async(callbacks.make());
  }
  ASSERT_TRUE(callbacks.wait_for(30));
  ASSERT_TRUE(callbacks.errors().empty()) << callbacks.errors().front();
  KeyValues before = scan({});
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(scan({}), before);
}

}  // namespace
}  // namespace tessera::conformance
