// Bloom filter over the user keys of one SSTable.
//
//   filter := bits k
//   bits   := ceil(n * bits_per_key / 8) bytes (at least 8)
//   k      := u8, number of probes (bits_per_key * ln 2, clamped to [1, 30])
//
// Probes use double hashing of one 64-bit XXH3 hash (h1 = low 32 bits, delta = high 32 bits),
// as in "Less Hashing, Same Performance" (Kirsch, Mitzenmacher). At 10 bits per key about 1% of
// absent keys pass.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/bytes.h"

namespace tessera::lsm::bloom {

uint64_t hash_key(ByteView user_key);

// Builds a filter for the keys whose hashes are given.
Bytes build(const std::vector<uint64_t>& key_hashes, int bits_per_key);

// False only when the key is certainly absent. A malformed filter answers true (it cannot rule
// anything out, and the block checksums already vouch for the bytes).
bool may_contain(ByteView filter, uint64_t key_hash);

}  // namespace tessera::lsm::bloom
