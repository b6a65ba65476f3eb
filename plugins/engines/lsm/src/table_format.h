// On-disk format of an SSTable (sorted string table), version 1.
//
//   table        := data_block* filter_block index_block footer
//   block        := contents compression crc             (data, filter and index blocks alike)
//   compression  := u8: 0 = none, 1 = zstd               (the filter block is never compressed)
//   crc          := fixed32_le(crc32c(contents compression))
//   handle       := varint64(offset) varint64(size)      size of the stored contents, without
//                                                         the 5-byte trailer
//   data block   := block_builder.h format; keys are internal keys, values user values
//   index block  := block_builder.h format; one entry per data block:
//                   key = the last internal key of the block, value = handle of the block
//   filter block := bloom.h format, over the user keys of the whole table
//   footer       := fixed64_le(filter_offset) fixed64_le(filter_size)
//                   fixed64_le(index_offset) fixed64_le(index_size)
//                   fixed64_le(entry_count) fixed32_le(format_version)
//                   fixed32_le(crc32c of the 44 bytes before it) fixed64_le(magic)
//
// All integers are little-endian. A reader checks the magic, the version, the footer checksum
// and then each block's checksum as it reads it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::lsm {

inline constexpr uint64_t kTableMagic = 0x3161726573736574ull;  // "tessera1" little-endian
inline constexpr uint32_t kTableFormatVersion = 1;
inline constexpr size_t kFooterBytes = 56;
inline constexpr size_t kBlockTrailerBytes = 5;

enum class Compression : uint8_t { kNone = 0, kZstd = 1 };

struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;
};

// What shapes the tables an engine writes (the engine's config sets them).
struct TableOptions {
  size_t block_bytes = 4096;
  int restart_interval = 16;
  int bloom_bits_per_key = 10;
  Compression compression = Compression::kNone;
  int zstd_level = 1;
};

}  // namespace tessera::lsm
