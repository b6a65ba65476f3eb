// WriterPreferringMutex: a shared mutex that lets a waiting exclusive locker in first.
//
// std::shared_mutex on glibc prefers readers: while shared holders keep overlapping, an
// exclusive locker waits for as long as they do. The catalog lock is held shared by every write
// across its fsync and exclusively by create_table / drop_table, so under a steady stream of
// writes a table change could wait without bound. Here, once an exclusive locker waits, new
// shared lockers queue behind it: it waits only for the writes already in flight.
//
// Meets the SharedMutex requirements (std::shared_lock, std::unique_lock). Not recursive: a
// thread must not take it shared twice (a waiting writer between the two would deadlock it).
#pragma once

#include <pthread.h>

#include "tessera/assert.h"

namespace tessera::node {

class WriterPreferringMutex {
 public:
  WriterPreferringMutex() {
    pthread_rwlockattr_t attr;
    TESSERA_ASSERT(pthread_rwlockattr_init(&attr) == 0);
    TESSERA_ASSERT(
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) == 0);
    TESSERA_ASSERT(pthread_rwlock_init(&lock_, &attr) == 0);
    pthread_rwlockattr_destroy(&attr);
  }
  ~WriterPreferringMutex() { pthread_rwlock_destroy(&lock_); }
  WriterPreferringMutex(const WriterPreferringMutex&) = delete;
  WriterPreferringMutex& operator=(const WriterPreferringMutex&) = delete;

  void lock() { TESSERA_ASSERT(pthread_rwlock_wrlock(&lock_) == 0); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { TESSERA_ASSERT(pthread_rwlock_unlock(&lock_) == 0); }

  void lock_shared() { TESSERA_ASSERT(pthread_rwlock_rdlock(&lock_) == 0); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { TESSERA_ASSERT(pthread_rwlock_unlock(&lock_) == 0); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace tessera::node
