// KeyDigest and EntryPosition: one key as a session compares it, and the order of keys.
//
// Purpose: at the leaves, a session compares lists of (token, key, digest) that the host reads
// from its store. Entries of a range are ordered by the token's offset from the range's start
// (so the order of the tree's leaves), then by key bytes (two keys may share a token). Pages of
// a leaf exchange are delimited by positions in this order.
// Thread-safety: plain values. Ownership: owns its key bytes.
#pragma once

#include "tessera/antientropy/digest.h"
#include "tessera/antientropy/token_range.h"
#include "tessera/bytes.h"

namespace tessera::antientropy {

// One key of the store: its token (placement's hash of `key`), the key as the host names it in
// PushKeys / FetchKeys (for instance table id + user key), and the digest of its versions.
struct KeyDigest {
  Token token = 0;
  Bytes key;
  Digest digest = 0;

  friend bool operator==(const KeyDigest&, const KeyDigest&) = default;
};

// A place between entries: the entry with this token and key (which need not exist).
struct EntryPosition {
  Token token = 0;
  Bytes key;

  friend bool operator==(const EntryPosition&, const EntryPosition&) = default;
};

// Whether (a_token, a_key) comes before (b_token, b_key) in `range`'s order.
inline bool entry_before(const TokenRange& range, Token a_token, ByteView a_key, Token b_token,
                         ByteView b_key) {
  const uint64_t a = range.offset_of(a_token);
  const uint64_t b = range.offset_of(b_token);
  return a != b ? a < b : a_key < b_key;
}

inline bool entry_before(const TokenRange& range, const KeyDigest& a, const EntryPosition& b) {
  return entry_before(range, a.token, a.key, b.token, b.key);
}
inline bool entry_before(const TokenRange& range, const EntryPosition& a, const KeyDigest& b) {
  return entry_before(range, a.token, a.key, b.token, b.key);
}
inline bool entry_before(const TokenRange& range, const EntryPosition& a, const EntryPosition& b) {
  return entry_before(range, a.token, a.key, b.token, b.key);
}

inline EntryPosition position_of(const KeyDigest& entry) { return {entry.token, entry.key}; }

}  // namespace tessera::antientropy
