// DottedVersion: the version of the vector-clock conflict plugin, a dotted version vector.
//
// A version is the event that made it (its dot: the coordinating node and that node's counter)
// plus the causal past the writer had seen (a version vector: for each node, the highest counter
// seen). Version a happened before b exactly when b's past (vector and dot) covers a's dot. This
// is the dotted version vector of Preguiça et al.; compared with a plain vector clock it keeps a
// blind write (one with an empty context) as a sibling of what is stored instead of losing it
// or merging it into a false descendant.
//
// Encoding:
//   version := length_prefixed(dot.node) varint64(dot.counter) varint32(n) entry{n}
//   entry   := length_prefixed(node) varint64(counter)            entries sorted by node
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tessera/bytes.h"

namespace tessera::vclock {

struct Dot {
  std::string node;
  uint64_t counter = 0;
  auto operator<=>(const Dot&) const = default;
};

struct DottedVersion {
  Dot dot;
  std::map<std::string, uint64_t> past;  // node -> highest counter seen

  // True when this version's past (vector and dot) includes `dot`.
  bool covers(const Dot& other) const;
  // Folds this version (past and dot) into `vector` by pointwise maximum.
  void merge_into(std::map<std::string, uint64_t>* vector) const;

  Bytes encode() const;
  static std::optional<DottedVersion> decode(ByteView bytes);
};

}  // namespace tessera::vclock
