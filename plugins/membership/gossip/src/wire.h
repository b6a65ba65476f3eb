// Wire encoding of gossip::Message: one message per UDP datagram, hand-written on top of
// tessera/coding.h.
//
// Purpose: the byte layout the gossip plugin sends and receives, and the limits that keep
// every datagram within kDatagramBytesMax (an MTU of 1,400 bytes with room for IP and UDP
// headers on a 1,500-byte link). The grammar (README.md, "Wire format"):
//
//   datagram := magic:"TG" version:u8(=2) crc:fixed32be(crc32c of body) body
//   body     := type:u8 to:str seq:varint64 target:str target_address:str count:u8 entry{count}
//   entry    := id:str address:str zone:str incarnation:varint64 status:u8 flags:u8
//   flags    := bit 0: joining; the other bits zero
//   str      := length:varint32 bytes
//
// `from` and `from_address` are not sent: every message carries the sender's own entry first
// (messages.h), so they are entries[0].id and entries[0].address. A datagram decodes only if
// every rule holds (magic, version, checksum, known type and status, 1..kWireEntriesMax
// entries, every string within its bound, ids and addresses not empty, no trailing bytes);
// otherwise decode() says so and the host drops it.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "gossip/messages.h"
#include "gossip/options.h"
#include "tessera/bytes.h"

namespace tessera::gossip::wire {

inline constexpr size_t kDatagramBytesMax = 1400;
inline constexpr uint8_t kVersion = 2;  // 2: an entry's flags byte

// The bounds the plugin puts into Options, so that every message the core makes encodes.
inline constexpr size_t kWireEntriesMax = 8;
inline constexpr size_t kIdBytesMax = 48;
inline constexpr size_t kAddressBytesMax = 64;  // "host:port"
inline constexpr size_t kZoneBytesMax = 16;

// Bytes of a varint32 length prefix for strings of at most `n` bytes.
constexpr size_t length_prefix_bytes(size_t n) { return n < 128 ? 1 : (n < 16384 ? 2 : 3); }
constexpr size_t str_bytes_max(size_t n) { return length_prefix_bytes(n) + n; }
inline constexpr size_t kVarint64BytesMax = 10;
inline constexpr size_t kHeaderBytes = 2 + 1 + 4;  // magic, version, crc

inline constexpr size_t kEntryBytesMax = str_bytes_max(kIdBytesMax) +
                                         str_bytes_max(kAddressBytesMax) +
                                         str_bytes_max(kZoneBytesMax) + kVarint64BytesMax + 2;
inline constexpr size_t kBodyFixedBytesMax = 1 + str_bytes_max(kIdBytesMax) + kVarint64BytesMax +
                                             str_bytes_max(kIdBytesMax) +
                                             str_bytes_max(kAddressBytesMax) + 1;
inline constexpr size_t kEncodedBytesMax =
    kHeaderBytes + kBodyFixedBytesMax + kWireEntriesMax * kEntryBytesMax;
// Room for the 32-byte HMAC tag a node's datagrams carry after these bytes
// (GossipConfig::secret).
inline constexpr size_t kTagBytes = 32;
static_assert(kEncodedBytesMax + kTagBytes <= kDatagramBytesMax,
              "a full message and its tag must fit one datagram");
static_assert(kWireEntriesMax >= 3, "the core needs own entry, receiver hint and news");
static_assert(kWireEntriesMax < 256, "the entry count is one byte");

// Sets the core's message and string bounds to the wire's (the rest of `options` untouched).
void apply_limits(Options& options);

// Whether `message` can be encoded: entries 1..kWireEntriesMax with the sender's own entry
// first (entries[0].id == from, entries[0].address == from_address), every string within its
// bound. Every message a core with apply_limits() options makes is encodable.
bool encodable(const Message& message);

// The datagram for `message`, at most kEncodedBytesMax bytes. REQUIRES: encodable(message).
Bytes encode(const Message& message);

// The message in `datagram`, or nullopt when it breaks any rule of the grammar (not an
// error to report: the host drops it). Never reads outside `datagram`.
std::optional<Message> decode(ByteView datagram);

}  // namespace tessera::gossip::wire
