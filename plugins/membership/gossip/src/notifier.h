// Notifier: calls the membership listeners on a thread of their own, one view at a time, so
// that a slow listener never holds up the gossip thread (which would delay acks and make
// healthy peers suspect this node).
//
// Each publish() is one change; the listeners see the views in publish order, each listener
// called with one view before any is called with the next. At most kPendingViewsMax views wait;
// when a listener falls further behind, the oldest waiting view is dropped (the newest always
// stays, so the last call a listener gets carries the current view).
// Thread-safety: publish() and subscribe() may be called from any thread. Listeners run on the
// notifier's thread; a listener may call back into the membership (members(), even leave()).
// REQUIRES: the Notifier is not destroyed from one of its listeners.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tessera/membership.h"

namespace tessera::gossip {

class Notifier {
 public:
  static constexpr size_t kPendingViewsMax = 1024;

  // Starts the thread. Throws std::system_error when no thread can be started (the factory
  // turns that into a Status).
  Notifier();
  // Views not yet delivered are dropped; a call in progress finishes first.
  ~Notifier();

  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void subscribe(Membership::Listener listener);
  // Queues `view` for every listener subscribed so far; a no-op without listeners.
  void publish(std::vector<NodeInfo> view);

  // Views dropped because the listeners fell behind (for tests).
  size_t dropped() const;

 private:
  void run();

  using Listeners = std::vector<Membership::Listener>;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<const Listeners> listeners_;       // copied on subscribe (mutex_)
  std::deque<std::vector<NodeInfo>> pending_;        // (mutex_)
  size_t dropped_ = 0;                               // (mutex_)
  bool stopping_ = false;                            // (mutex_)
  std::thread thread_;                               // last: starts once the rest exists
};

}  // namespace tessera::gossip
