// Page format: the fixed-size unit of the data file, and the header every page starts with.
//
// The data file is an array of pages of `page_bytes` each (a power of two, kPageBytesMin ..
// kPageBytesMax); page n lives at offset n * page_bytes. Pages 0 and 1 are the two meta pages
// (meta.h); every other page is a leaf, an interior node (node.h) or an overflow page
// (overflow.h), or free.
//
//   page    := header body
//   header  := crc32c:u32 type:u8 zero:u8 count:u16 page_id:u32 link:u32 txn:u64 zero:u64
//   crc32c  := CRC32C of page[4, page_bytes)          (checked on every read from disk)
//   type    := 1 meta | 2 leaf | 3 interior | 4 overflow
//   count   := cells in a node; payload bytes in an overflow page; 0 in a meta page
//   page_id := the page's own number (catches a page written to or read from the wrong place)
//   link    := interior: leftmost child; overflow: next page of the chain or 0; else 0
//   txn     := the transaction that wrote this version of the page
// Integers in pages are little-endian. A page that fails any of these checks is reported as
// Corruption naming the file and the page; it is never interpreted.
// Thread-safety: pure functions over caller-owned buffers.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "tessera/status.h"

namespace tessera::btree {

static_assert(std::endian::native == std::endian::little, "page integers are stored as is");

using PageId = uint32_t;
// Page 0 is a meta page and never a node, so 0 doubles as "no page".
inline constexpr PageId kNoPage = 0;
inline constexpr PageId kMetaPages = 2;  // pages 0 and 1
inline constexpr PageId kFirstDataPage = kMetaPages;

inline constexpr size_t kPageBytesMin = 512;
inline constexpr size_t kPageBytesMax = 32768;  // node offsets are u16
inline constexpr size_t kPageBytesDefault = 4096;
inline constexpr size_t kPageHeaderBytes = 32;

enum class PageType : uint8_t { kMeta = 1, kLeaf = 2, kInterior = 3, kOverflow = 4 };

inline uint16_t load_u16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t load_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_u16(char* p, uint16_t v) { std::memcpy(p, &v, sizeof v); }
inline void store_u32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }
inline void store_u64(char* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }

// Field offsets of the header.
namespace header {
inline constexpr size_t kCrc = 0;
inline constexpr size_t kType = 4;
inline constexpr size_t kCount = 6;
inline constexpr size_t kPageId = 8;
inline constexpr size_t kLink = 12;
inline constexpr size_t kTxn = 16;
}  // namespace header

// Read-only view of a page's header fields. REQUIRES: the page passed verify_page (or was built
// in memory by this process).
struct PageHeader {
  const char* page;
  PageType type() const { return static_cast<PageType>(page[header::kType]); }
  uint16_t count() const { return load_u16(page + header::kCount); }
  PageId page_id() const { return load_u32(page + header::kPageId); }
  PageId link() const { return load_u32(page + header::kLink); }
  uint64_t txn() const { return load_u64(page + header::kTxn); }
};

// Zeroes the page and writes a header with crc 0 (seal_page fills it on the way to disk).
void init_page(char* page, size_t page_bytes, PageType type, PageId id, uint64_t txn);
inline void set_count(char* page, uint16_t count) { store_u16(page + header::kCount, count); }
inline void set_link(char* page, PageId link) { store_u32(page + header::kLink, link); }
inline void set_page_id(char* page, PageId id) { store_u32(page + header::kPageId, id); }
inline void set_txn(char* page, uint64_t txn) { store_u64(page + header::kTxn, txn); }

// Stores the CRC32C of page[4, page_bytes) in the header.
void seal_page(char* page, size_t page_bytes);

// OK when the checksum matches, the page says it is page `expected_id` and its type is one of
// the known ones; Corruption "<file>: page <n>: <what>" otherwise.
Status verify_page(const char* page, size_t page_bytes, PageId expected_id,
                   const std::string& file);

// Corruption "<file>: page <n>: <what>", the one shape of every page error.
Status page_corruption(const std::string& file, PageId id, const std::string& what);

inline bool valid_page_bytes(size_t n) {
  return n >= kPageBytesMin && n <= kPageBytesMax && std::has_single_bit(n);
}

}  // namespace tessera::btree
