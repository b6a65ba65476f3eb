#include "notifier.h"

#include <utility>

#include "tessera/assert.h"

namespace tessera::gossip {

Notifier::Notifier()
    : listeners_(std::make_shared<const Listeners>()), thread_([this] { run(); }) {}

Notifier::~Notifier() {
  TESSERA_REQUIRE(std::this_thread::get_id() != thread_.get_id(),
                  "a membership destroyed from its own listener");
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    pending_.clear();
  }
  wake_.notify_all();
  thread_.join();
}

void Notifier::subscribe(Membership::Listener listener) {
  std::lock_guard lock(mutex_);
  auto next = std::make_shared<Listeners>(*listeners_);
  next->push_back(std::move(listener));
  listeners_ = std::move(next);
}

void Notifier::publish(std::vector<NodeInfo> view) {
  {
    std::lock_guard lock(mutex_);
    if (listeners_->empty() || stopping_) return;
    if (pending_.size() >= kPendingViewsMax) {
      pending_.pop_front();
      ++dropped_;
    }
    pending_.push_back(std::move(view));
  }
  wake_.notify_one();
}

size_t Notifier::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void Notifier::run() {
  for (;;) {
    std::vector<NodeInfo> view;
    std::shared_ptr<const Listeners> listeners;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      view = std::move(pending_.front());
      pending_.pop_front();
      listeners = listeners_;
    }
    for (const Membership::Listener& listener : *listeners) {
      // A listener that throws is the host's bug, but it must not take the plugin down.
      try {
        if (listener) listener(view);
      } catch (...) {
      }
    }
  }
}

}  // namespace tessera::gossip
