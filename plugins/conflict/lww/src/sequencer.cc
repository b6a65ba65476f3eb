#include "sequencer.h"

#include <xxhash.h>

#include <algorithm>

#include "tessera/assert.h"
#include "tessera/coding.h"

namespace tessera::lww {

Bytes Sequencer::encode() const {
  Bytes out;
  out.reserve(kSequencerBytes);
  put_fixed64_be(&out, timestamp_ns);
  put_fixed32_be(&out, counter);
  put_fixed32_be(&out, node_tag);
  return out;
}

std::optional<Sequencer> Sequencer::decode(ByteView bytes) {
  if (bytes.size() != kSequencerBytes) return std::nullopt;
  Sequencer s;
  bool ok = get_fixed64_be(&bytes, &s.timestamp_ns) && get_fixed32_be(&bytes, &s.counter) &&
            get_fixed32_be(&bytes, &s.node_tag);
  TESSERA_ASSERT(ok);
  return s;
}

uint32_t node_tag(const NodeId& node) { return XXH32(node.data(), node.size(), 0); }

Sequencer ratchet(const Sequencer& proposed, const Sequencer& last) {
  if (proposed > last) return proposed;
  Sequencer next{.timestamp_ns = last.timestamp_ns,
                 .counter = last.counter + 1,
                 .node_tag = proposed.node_tag};
  if (next.counter == 0) ++next.timestamp_ns;  // the counter wrapped
  return next;
}

Sequencer SequencerClock::next(uint64_t now_ns, std::span<const Sequencer> seen) {
  std::lock_guard lock(mutex_);
  Sequencer floor = last_;
  for (const Sequencer& s : seen) floor = std::max(floor, s);
  Sequencer next{.timestamp_ns = now_ns, .counter = 0, .node_tag = node_tag_};
  if (next <= floor) {
    // The clock is behind what we have issued or seen: stay on that timestamp and count up.
    next.timestamp_ns = floor.timestamp_ns;
    next.counter = floor.counter + 1;
    if (next.counter == 0) ++next.timestamp_ns;  // the counter wrapped
  }
  last_ = next;
  return next;
}

}  // namespace tessera::lww
