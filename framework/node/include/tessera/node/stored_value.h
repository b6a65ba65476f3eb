// How a node stores the versions of one key, and how it hands a causal context to clients.
//
// Every stored key maps to the set of versions that survived reconciliation: one for
// last-write-wins, all concurrent siblings for vector clocks. Deletes are tombstones (a version
// with no value), so that a delete supersedes older writes on every replica.
//
//   record  := varint32(count) sibling{count}
//   sibling := flags:u8 length_prefixed(version) length_prefixed(value)   flags bit 0 = tombstone
//
// A tombstone's value is fixed64_be(written_ms): when it was written, so that it can be
// collected after the grace period.
//
//   context := varint32(count) length_prefixed(version){count}
#pragma once

#include <span>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/conflict.h"
#include "tessera/status.h"

namespace tessera::node {

Bytes encode_record(std::span<const VersionedValue> siblings);
// Corruption when `bytes` do not follow the grammar.
Result<std::vector<VersionedValue>> decode_record(ByteView bytes);

// A tombstone for `version` written at `now_ms`.
VersionedValue make_tombstone(Bytes version, uint64_t now_ms);
// When a tombstone was written; 0 (collectable) when its value holds no time.
// REQUIRES: sibling.tombstone.
uint64_t tombstone_written_ms(const VersionedValue& sibling);

Bytes encode_context(std::span<const VersionedValue> siblings);
// The context of these versions (as a quorum read's answer lists them).
Bytes encode_context(std::span<const Bytes> versions);
// InvalidArgument when a client sends bytes that are not a context.
Result<std::vector<Bytes>> decode_context(ByteView bytes);

}  // namespace tessera::node
