// Network<Msg>: a fake packet network between simulated endpoints.
//
// Purpose: carries messages of any type between endpoints 0..endpoints_count-1 with per-link
// delay, drop, duplication and reordering, and with directed cuts (a partition is a set of
// cuts; a one-way partition is a cut in one direction only). A cut is checked both when a
// message is sent and when it would be delivered, so a partition also kills messages already
// in flight. All randomness comes from the Rng given at construction.
// Thread-safety: none; the owning Simulation drives it from one thread.
// Ownership: borrows the Rng, which must outlive the network; owns messages in flight.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tessera/sim/rng.h"

namespace tessera::sim {

using EndpointId = uint32_t;
using Time = uint64_t;  // abstract simulated time units

struct LinkConfig {
  Time delay_min = 1;
  Time delay_max = 10;
  double drop = 0.0;       // probability a send is lost
  double duplicate = 0.0;  // probability a send is delivered twice
  double reorder = 0.0;    // probability a send is held back by up to reorder_delay_max
  Time reorder_delay_max = 50;
};

template <class Msg>
struct Envelope {
  Time deliver_at = 0;
  uint64_t seq = 0;  // ties on deliver_at are broken by send order: deterministic
  EndpointId from = 0;
  EndpointId to = 0;
  Msg msg;
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped = 0;  // lost, cut, or over the in-flight bound
  uint64_t duplicated = 0;
};

template <class Msg>
class Network {
 public:
  // Beyond this many messages in flight, sends are dropped: a bound, not a feature.
  static constexpr size_t kInFlightMax = 1 << 20;

  Network(Rng& rng, size_t endpoints_count)
      : rng_(rng),
        endpoints_count_(endpoints_count),
        links_(endpoints_count * endpoints_count),
        cut_(endpoints_count * endpoints_count, 0) {}

  size_t endpoints_count() const { return endpoints_count_; }

  void set_all_links(const LinkConfig& config) { std::fill(links_.begin(), links_.end(), config); }
  void set_link(EndpointId from, EndpointId to, const LinkConfig& config) {
    links_[slot(from, to)] = config;
  }
  const LinkConfig& link(EndpointId from, EndpointId to) const { return links_[slot(from, to)]; }

  // Cuts the directed link from -> to (one-way partition) or restores it.
  void set_cut(EndpointId from, EndpointId to, bool cut) { cut_[slot(from, to)] = cut ? 1 : 0; }
  bool is_cut(EndpointId from, EndpointId to) const { return cut_[slot(from, to)] != 0; }

  // Cuts every link between the two sides, in both directions or only from a to b.
  void partition(const std::vector<EndpointId>& a, const std::vector<EndpointId>& b,
                 bool both_directions) {
    for (EndpointId x : a) {
      for (EndpointId y : b) {
        set_cut(x, y, true);
        if (both_directions) set_cut(y, x, true);
      }
    }
  }

  void heal() { std::fill(cut_.begin(), cut_.end(), 0); }

  void send(Time now, EndpointId from, EndpointId to, Msg msg) {
    ++stats_.sent;
    const LinkConfig& config = links_[slot(from, to)];
    if (is_cut(from, to) || rng_.chance(config.drop) || heap_.size() >= kInFlightMax) {
      ++stats_.dropped;
      return;
    }
    if (rng_.chance(config.duplicate)) {
      ++stats_.duplicated;
      push(now + delay(config), from, to, msg);
    }
    push(now + delay(config), from, to, std::move(msg));
  }

  std::optional<Time> next_due() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front().deliver_at;
  }

  // Moves the earliest message due at or before now into *out and returns true, if there is
  // one. A message whose link has been cut since it was sent is dropped here and the next one
  // is tried. (An out-parameter rather than std::optional: GCC 12 warns falsely about moving
  // variants through optionals, and warnings are errors.)
  bool pop_due(Time now, Envelope<Msg>* out) {
    while (!heap_.empty() && heap_.front().deliver_at <= now) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      Envelope<Msg>& back = heap_.back();
      if (is_cut(back.from, back.to)) {
        ++stats_.dropped;
        heap_.pop_back();
        continue;
      }
      *out = std::move(back);
      heap_.pop_back();
      ++stats_.delivered;
      return true;
    }
    return false;
  }

  // Puts a popped message back, to be delivered at `at` (a paused receiver gets it later).
  void redeliver_at(Time at, Envelope<Msg> envelope) {
    --stats_.delivered;
    push(at, envelope.from, envelope.to, std::move(envelope.msg));
  }

  size_t in_flight() const { return heap_.size(); }
  const NetworkStats& stats() const { return stats_; }

 private:
  struct Later {
    bool operator()(const Envelope<Msg>& a, const Envelope<Msg>& b) const {
      if (a.deliver_at != b.deliver_at) return a.deliver_at > b.deliver_at;
      return a.seq > b.seq;
    }
  };

  size_t slot(EndpointId from, EndpointId to) const { return from * endpoints_count_ + to; }

  Time delay(const LinkConfig& config) {
    Time d = rng_.range(config.delay_min, config.delay_max);
    if (rng_.chance(config.reorder)) d += rng_.range(1, config.reorder_delay_max);
    return d;
  }

  void push(Time at, EndpointId from, EndpointId to, Msg msg) {
    heap_.push_back(Envelope<Msg>{at, next_seq_++, from, to, std::move(msg)});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }

  Rng& rng_;
  size_t endpoints_count_;
  std::vector<LinkConfig> links_;
  std::vector<uint8_t> cut_;
  std::vector<Envelope<Msg>> heap_;
  uint64_t next_seq_ = 0;
  NetworkStats stats_;
};

}  // namespace tessera::sim
