// JobThread: one thread that runs posted jobs in order, for work that may block (reading a
// snapshot image, writing one to a staging file) and so must stay off every event loop.
//
// Thread-safety: post() and stop() may be called from any thread. Ownership: owns its thread;
// jobs are owned until they ran. stop() (and the destructor) lets the running job finish, drops
// the jobs not started yet (destroying them on the calling thread), and joins.
#pragma once

#include <kj/function.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace tessera::raft::transport {

class JobThread {
 public:
  JobThread();
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  // Runs `job` after the jobs posted before it. False, with `job` destroyed, after stop().
  bool post(kj::Function<void()> job);

  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<kj::Function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  std::thread thread_;
};

}  // namespace tessera::raft::transport
