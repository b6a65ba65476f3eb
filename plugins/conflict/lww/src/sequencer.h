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
