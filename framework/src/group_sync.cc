#include "tessera/group_sync.h"

#include <utility>

namespace tessera {

GroupSync::GroupSync(std::function<Status()> sync) : sync_(std::move(sync)) {}

GroupSync::~GroupSync() { stop(); }

void GroupSync::submit(SyncCallback done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      waiting_.push_back(std::move(done));
      if (!started_) {
        started_ = true;
        thread_ = std::thread([this] { run(); });
      }
      wake_.notify_one();
      return;
    }
  }
  done(sync_());
}

void GroupSync::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void GroupSync::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    if (waiting_.empty()) return;  // stopping, and every waiter served
    std::vector<SyncCallback> group;
    group.swap(waiting_);
    lock.unlock();
    Status status = sync_();
    for (SyncCallback& done : group) done(status);
    lock.lock();
    ++syncs_;
    waiters_ += group.size();
  }
}

void GroupSync::add_stats(EngineStats* stats) const {
  std::lock_guard lock(mutex_);
  (*stats)["group_syncs"] = static_cast<double>(syncs_);
  (*stats)["group_sync_waiters"] = static_cast<double>(waiters_);
}

}  // namespace tessera
