// Internal keys and little encoding helpers shared by every part of the LSM engine.
//
// Every stored entry is keyed by an internal key: the user key followed by an 8-byte tag that
// packs the entry's sequence number and its type.
//
//   internal_key := user_key tag
//   tag          := fixed64_le(sequence << 8 | type)      type: 0 = deletion, 1 = value
//
// Internal keys order by user key ascending, then by tag descending, so that the newest version
// of a key comes first and a seek to (key, snapshot_sequence, kValue) lands on the newest version
// visible to that snapshot. Sequence numbers are 56 bits.
//
// Fixed-width integers on disk are little-endian (memcpy on the machines we run on).
// Thread-safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::lsm {

using SequenceNumber = uint64_t;

inline constexpr SequenceNumber kSequenceMax = (uint64_t{1} << 56) - 1;
inline constexpr size_t kTagBytes = 8;

enum class ValueType : uint8_t { kDeletion = 0, kValue = 1 };
// The type a lookup key carries: the highest type, so the lookup sorts before every entry of
// the same user key and sequence.
inline constexpr ValueType kValueTypeForSeek = ValueType::kValue;

inline void put_fixed32_le(Bytes* dst, uint32_t v) { dst->append(reinterpret_cast<char*>(&v), 4); }
inline void put_fixed64_le(Bytes* dst, uint64_t v) { dst->append(reinterpret_cast<char*>(&v), 8); }
inline uint32_t decode_fixed32_le(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t decode_fixed64_le(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void encode_fixed32_le(char* p, uint32_t v) { std::memcpy(p, &v, 4); }

inline uint64_t pack_tag(SequenceNumber sequence, ValueType type) {
  return (sequence << 8) | static_cast<uint8_t>(type);
}

inline void append_internal_key(Bytes* dst, ByteView user_key, SequenceNumber sequence,
                                ValueType type) {
  dst->append(user_key);
  put_fixed64_le(dst, pack_tag(sequence, type));
}

inline Bytes make_internal_key(ByteView user_key, SequenceNumber sequence, ValueType type) {
  Bytes key;
  key.reserve(user_key.size() + kTagBytes);
  append_internal_key(&key, user_key, sequence, type);
  return key;
}

// REQUIRES: internal_key.size() >= kTagBytes (checked by parse_internal_key for bytes from disk).
inline ByteView user_key_of(ByteView internal_key) {
  return internal_key.substr(0, internal_key.size() - kTagBytes);
}
inline uint64_t tag_of(ByteView internal_key) {
  return decode_fixed64_le(internal_key.data() + internal_key.size() - kTagBytes);
}

struct ParsedInternalKey {
  ByteView user_key;
  SequenceNumber sequence = 0;
  ValueType type = ValueType::kValue;
};

// False when the bytes cannot be an internal key (too short or an unknown type).
inline bool parse_internal_key(ByteView internal_key, ParsedInternalKey* out) {
  if (internal_key.size() < kTagBytes) return false;
  uint64_t tag = tag_of(internal_key);
  auto type = static_cast<uint8_t>(tag & 0xFF);
  if (type > static_cast<uint8_t>(ValueType::kValue)) return false;
  out->user_key = user_key_of(internal_key);
  out->sequence = tag >> 8;
  out->type = static_cast<ValueType>(type);
  return true;
}

// <0, 0, >0 like memcmp: user key ascending, then tag descending.
inline int compare_internal_keys(ByteView a, ByteView b) {
  int r = user_key_of(a).compare(user_key_of(b));
  if (r != 0) return r;
  uint64_t ta = tag_of(a);
  uint64_t tb = tag_of(b);
  return ta > tb ? -1 : (ta < tb ? 1 : 0);
}

}  // namespace tessera::lsm

namespace tessera::lsm {

// Varint32 on raw buffers, for hot paths that cannot go through a Bytes (tessera/coding.h has the
// same encoding for Bytes).
inline char* encode_varint32(char* dst, uint32_t v) {
  auto* p = reinterpret_cast<uint8_t*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return reinterpret_cast<char*>(p);
}
inline int varint32_length(uint32_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
// Decodes from [p, limit); nullptr when the varint is malformed or runs past limit.
inline const char* decode_varint32(const char* p, const char* limit, uint32_t* v) {
  uint32_t result = 0;
  for (uint32_t shift = 0; shift <= 28 && p < limit; shift += 7) {
    uint32_t byte = static_cast<uint8_t>(*p++);
    result |= (byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

}  // namespace tessera::lsm
