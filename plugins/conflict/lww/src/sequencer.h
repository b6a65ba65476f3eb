// Sequencer: the 16-byte version of the last-write-wins conflict plugin.
//
// Layout (big-endian, so that byte-wise order is version order):
//
//   sequencer := fixed64(timestamp_ns) fixed32(counter) fixed32(node_tag)
//
// timestamp_ns is wall-clock nanoseconds, never below a version the node has made or seen;
// counter breaks ties within one nanosecond; node_tag (a hash of the node id) breaks ties
// between nodes, so two different writes never get the same sequencer.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

#include "tessera/bytes.h"
#include "tessera/cluster.h"

namespace tessera::lww {

inline constexpr size_t kSequencerBytes = 16;

struct Sequencer {
  uint64_t timestamp_ns = 0;
  uint32_t counter = 0;
  uint32_t node_tag = 0;

  Bytes encode() const;
  // nullopt unless `bytes` is exactly kSequencerBytes long.
  static std::optional<Sequencer> decode(ByteView bytes);
  auto operator<=>(const Sequencer&) const = default;
};

uint32_t node_tag(const NodeId& node);

// The sequencer a replicated log applies for a write proposed with `proposed`, when the last
// one it applied is `last`: `proposed` if it is above `last`, else the next sequencer after
// `last` (same timestamp, counter + 1, carried into the timestamp when the counter wraps) with
// the proposer's node tag. Applied in commit order, this makes sequencer order the commit order
// even when a new leader's clock is behind the old one's or a node restarts with its clock set
// back. The result must be persisted with the applied index, so that a restart ratchets on
// from it.
Sequencer ratchet(const Sequencer& proposed, const Sequencer& last);

// Issues increasing sequencers for one node. Thread-safe.
class SequencerClock {
 public:
  explicit SequencerClock(uint32_t node_tag) : node_tag_(node_tag) {}

  // A sequencer greater than every one issued before and than every one in `seen`, with its
  // timestamp at least `now_ns`.
  Sequencer next(uint64_t now_ns, std::span<const Sequencer> seen);

 private:
  std::mutex mutex_;
  Sequencer last_;
  const uint32_t node_tag_;
};

}  // namespace tessera::lww
