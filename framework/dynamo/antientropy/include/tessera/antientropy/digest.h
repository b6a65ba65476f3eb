// Digest: what a Merkle tree and a session know of one key's stored versions.
//
// Purpose: a replica summarizes each key by one 64-bit digest of its key and its reconciled
// versions, tombstones included (a delete is a version like any other, so that anti-entropy
// carries deletes and never resurrects a deleted key). Two replicas holding the same versions
// of a key must compute the same digest, so the host must encode the versions canonically (the
// stored value encoding of the surviving set, in a fixed order).
// Thread-safety: pure functions. Ownership: none.
#pragma once

#include <cstdint>

#include "tessera/bytes.h"

namespace tessera::antientropy {

using Digest = uint64_t;

// xxHash64 of the key's length (4 bytes, little-endian), the key and `versions` (the host's
// canonical encoding of the key's versions).
Digest digest_of(ByteView key, ByteView versions);

}  // namespace tessera::antientropy
