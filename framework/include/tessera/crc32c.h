// CRC32C (Castagnoli), the checksum engines put on every log record, block and page they
// write. Uses the SSE4.2 crc32 instruction when the CPU has it and a table otherwise; both give
// the same value (the standard CRC-32C, e.g. crc32c("123456789") == 0xE3069283).
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::crc32c {

// CRC32C of data[0, n) continuing from the CRC `init` of preceding bytes (0 to start).
uint32_t extend(uint32_t init, const char* data, size_t n);

inline uint32_t value(const char* data, size_t n) { return extend(0, data, n); }

}  // namespace tessera::crc32c
