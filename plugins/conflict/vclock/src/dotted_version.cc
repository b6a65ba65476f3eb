#include "dotted_version.h"

#include <algorithm>

#include "tessera/coding.h"

namespace tessera::vclock {

bool DottedVersion::covers(const Dot& other) const {
  if (dot == other) return true;
  auto seen = past.find(other.node);
  return seen != past.end() && seen->second >= other.counter;
}

void DottedVersion::merge_into(std::map<std::string, uint64_t>* vector) const {
  for (const auto& [node, counter] : past) {
    uint64_t& slot = (*vector)[node];
    slot = std::max(slot, counter);
  }
  uint64_t& own = (*vector)[dot.node];
  own = std::max(own, dot.counter);
}

Bytes DottedVersion::encode() const {
  Bytes out;
  put_length_prefixed(&out, dot.node);
  put_varint64(&out, dot.counter);
  put_varint32(&out, static_cast<uint32_t>(past.size()));
  for (const auto& [node, counter] : past) {
    put_length_prefixed(&out, node);
    put_varint64(&out, counter);
  }
  return out;
}

std::optional<DottedVersion> DottedVersion::decode(ByteView bytes) {
  DottedVersion version;
  ByteView node;
  uint32_t entries = 0;
  if (!get_length_prefixed(&bytes, &node) || !get_varint64(&bytes, &version.dot.counter) ||
      !get_varint32(&bytes, &entries) || node.empty()) {
    return std::nullopt;
  }
  version.dot.node = std::string(node);
  for (uint32_t i = 0; i < entries; ++i) {
    uint64_t counter = 0;
    if (!get_length_prefixed(&bytes, &node) || !get_varint64(&bytes, &counter)) {
      return std::nullopt;
    }
    // Entries are written sorted and unique; anything else was not made by encode().
    if (!version.past.empty() && ByteView(version.past.rbegin()->first) >= node) {
      return std::nullopt;
    }
    version.past.emplace(std::string(node), counter);
  }
  if (!bytes.empty()) return std::nullopt;
  return version;
}

}  // namespace tessera::vclock
