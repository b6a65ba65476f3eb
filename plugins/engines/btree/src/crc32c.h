// CRC32C (Castagnoli), the checksum of every page. A table-driven byte-at-a-time version: pages
// are checksummed once per write and once per read from disk, which costs far less than the I/O.
// Gives the standard value: value("123456789") == 0xE3069283.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::btree::crc32c {

// CRC32C of data[0, n) continuing from the CRC `init` of preceding bytes (0 to start).
uint32_t extend(uint32_t init, const char* data, size_t n);

inline uint32_t value(const char* data, size_t n) { return extend(0, data, n); }

}  // namespace tessera::btree::crc32c
