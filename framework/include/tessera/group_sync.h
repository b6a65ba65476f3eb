// GroupSync: an engine's sync_async() (engine.h) built on its blocking sync().
//
// submit(done) queues `done` and returns. One thread of the GroupSync's own takes every waiter
// queued so far, runs the engine's sync() once for all of them, and calls each with its Status,
// in submission order. So any number of writers waiting for durability share one fsync, and a
// waiter costs a queue entry rather than a thread blocked in the disk. The thread starts with
// the first submit(): an engine nobody awaits runs none.
//
// Correct because a waiter is queued after the write it waits for returned, and a sync covers
// every write that returned before it began (the sync() contract).
//
// Thread-safety: submit() may be called from any thread, a callback included. Callbacks run on
// the sync thread; they must neither block nor throw.
// Lifetime: stop() (the destructor too) syncs once more for the waiters still queued, calls
// them and joins the thread; later submit() calls sync() and `done` on the caller's thread. An
// engine calls stop() first in its destructor, before it tears down anything sync() uses.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tessera/engine.h"
#include "tessera/status.h"

namespace tessera {

class GroupSync {
 public:
  explicit GroupSync(std::function<Status()> sync);
  ~GroupSync();
  GroupSync(const GroupSync&) = delete;
  GroupSync& operator=(const GroupSync&) = delete;

  void submit(SyncCallback done);
  void stop();

  // "group_syncs" (syncs run for waiters) and "group_sync_waiters" (callbacks served).
  void add_stats(EngineStats* stats) const;

 private:
  void run();

  const std::function<Status()> sync_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<SyncCallback> waiting_;  // (mutex_)
  bool started_ = false;               // (mutex_)
  bool stopping_ = false;              // (mutex_)
  uint64_t syncs_ = 0;                 // (mutex_)
  uint64_t waiters_ = 0;               // (mutex_)
  std::thread thread_;
};

}  // namespace tessera
