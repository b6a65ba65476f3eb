#include "tessera/node/writer_preferring_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace tessera::node {
namespace {

TEST(WriterPreferringMutex, AWaitingWriterStopsNewReaders) {
  WriterPreferringMutex mutex;
  std::shared_lock reader(mutex);
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::unique_lock lock(mutex);
    written = true;
  });
  // Once the writer waits, a new reader must not get in. With a reader-preferring lock this
  // never happens and the loop runs out.
  bool refused = false;
  for (int i = 0; i < 10'000 && !refused; ++i) {
    if (mutex.try_lock_shared()) {
      mutex.unlock_shared();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } else {
      refused = true;
    }
  }
  EXPECT_TRUE(refused) << "a new reader overtook a waiting writer";
  EXPECT_FALSE(written);
  reader.unlock();
  writer.join();
  EXPECT_TRUE(written);
  EXPECT_TRUE(mutex.try_lock_shared()) << "readers get in again once the writer is done";
  mutex.unlock_shared();
}

}  // namespace
}  // namespace tessera::node
