// Record framing of the write-ahead log, also used by the manifest.
//
//   file          := record*
//   record        := length length_check payload_check payload
//   length        := fixed32_le(payload size)
//   length_check  := fixed32_le(crc32c(length))        a flipped length bit is caught before
//                                                       the reader trusts it
//   payload_check := fixed32_le(crc32c(payload))
//
// A WAL payload is one commit group:
//   wal_payload := fixed64_le(first_sequence) batch_rep      (batch_rep: tessera/write_batch.h)
// Its operations get sequence numbers first_sequence, first_sequence + 1, ... in order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::lsm {

inline constexpr size_t kRecordHeaderBytes = 12;
// A single record may not exceed this (a commit group is far smaller; a user batch is limited by
// the engine's callers).
inline constexpr uint32_t kRecordPayloadBytesMax = 1u << 30;

}  // namespace tessera::lsm
