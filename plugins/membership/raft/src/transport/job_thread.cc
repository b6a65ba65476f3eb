#include "transport/job_thread.h"

#include <utility>

namespace tessera::raft::transport {

JobThread::JobThread() : thread_([this]() { run(); }) {}

JobThread::~JobThread() { stop(); }

bool JobThread::post(kj::Function<void()> job) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  jobs_.push_back(kj::mv(job));
  cv_.notify_one();
  return true;
}

void JobThread::stop() {
  std::deque<kj::Function<void()>> dropped;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped.swap(jobs_);
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void JobThread::run() {
  for (;;) {
    kj::Function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this]() { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = kj::mv(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace tessera::raft::transport
