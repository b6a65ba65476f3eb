// TokenRange and TokenSpan: arcs of the 64-bit token ring that anti-entropy works on.
//
// Purpose: a key's token is the placement's hash of the key (the ring plugin: xxHash64), and a
// replicated range is an arc [start, end) of tokens, as HashRing::Arc gives it: it may wrap
// past 2^64 - 1 to 0, and start == end means the whole ring (a ring of one vnode). Inside a
// range, tokens are ordered by their clockwise distance from `start` (offset_of), which is the
// order of the Merkle tree's leaves.
// Thread-safety: plain values. Ownership: none.
#pragma once

#include <cstdint>

namespace tessera::antientropy {

using Token = uint64_t;

struct TokenRange {
  Token start = 0;
  Token end = 0;  // exclusive; start == end: the whole ring

  bool whole_ring() const { return start == end; }
  // How many tokens the range holds: 2^64 for the whole ring, hence 128 bits.
  unsigned __int128 size() const {
    return whole_ring() ? (static_cast<unsigned __int128>(1) << 64) : Token(end - start);
  }
  // Clockwise distance from start; a token is in the range iff its offset is below size().
  uint64_t offset_of(Token token) const { return token - start; }
  bool contains(Token token) const { return offset_of(token) < size(); }

  friend bool operator==(const TokenRange&, const TokenRange&) = default;
};

// An inclusive, never empty run of tokens [first, last] inside a range; it wraps past 2^64 - 1
// when first > last. What one Merkle leaf covers.
struct TokenSpan {
  Token first = 0;
  Token last = 0;

  friend bool operator==(const TokenSpan&, const TokenSpan&) = default;
};

}  // namespace tessera::antientropy
