// Node format: leaves and interior nodes as slotted pages.
//
//   node          := header(type 2 leaf | 3 interior, count n, link) slot[n] free cells
//   slot          := u16 offset of a cell, slots ordered by key
//   cells         := packed at the end of the page, in any order
//   leaf cell     := flags:u8 varint32(key_len) varint32(value_len) key_part value_part
//   interior cell := child:u32 flags:u8 varint32(key_len) key_part
//   key_part      := key_len bytes        when !(flags & kKeyOverflow)
//                  | first_page:u32       an overflow chain holding the key (overflow.h)
//   value_part    := value_len bytes      when !(flags & kValueOverflow)
//                  | first_page:u32
// An interior node with n cells has n + 1 children: link (the leftmost child, keys below cell
// 0's key) and each cell's child, which holds the keys >= the cell's key and < the next cell's.
//
// Nodes are read in place through NodeView and rewritten whole: a writer decodes the cells it
// keeps (as their encoded bytes), edits that list and builds a fresh page from it
// (build_node). A page is structurally validated once, when it is read from disk
// (validate_node); after that the accessors only assert.
// Thread-safety: pure functions over caller-owned buffers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "page.h"
#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::btree {

inline constexpr uint8_t kKeyOverflow = 1;
inline constexpr uint8_t kValueOverflow = 2;
inline constexpr size_t kSlotBytes = 2;

// A decoded cell. Views point into the page (or the encoded cell) it was decoded from.
struct Cell {
  uint8_t flags = 0;
  PageId child = kNoPage;  // interior cells only
  uint32_t key_len = 0;
  ByteView key_inline;     // when !(flags & kKeyOverflow)
  PageId key_page = kNoPage;
  uint32_t value_len = 0;  // leaf cells only
  ByteView value_inline;   // when !(flags & kValueOverflow)
  PageId value_page = kNoPage;
  bool key_overflows() const { return (flags & kKeyOverflow) != 0; }
  bool value_overflows() const { return (flags & kValueOverflow) != 0; }
};

// Decodes one cell from the front of `in`; false when the bytes are malformed. `*size` gets the
// cell's encoded length.
bool decode_cell(ByteView in, bool leaf, Cell* cell, size_t* size);

// Encoded cells. `key_part` / `value_part` are the inline bytes, or the 4-byte page id of the
// chain when the flag says so (use overflow_ref()).
Bytes encode_leaf_cell(uint8_t flags, uint32_t key_len, ByteView key_part, uint32_t value_len,
                       ByteView value_part);
Bytes encode_interior_cell(PageId child, uint8_t flags, uint32_t key_len, ByteView key_part);
Bytes overflow_ref(PageId first_page);
// The cell with its child replaced. REQUIRES: an encoded interior cell.
Bytes with_child(ByteView interior_cell, PageId child);

// Bytes a node page needs for these cells (header, slots, cells).
size_t node_bytes_needed(const std::vector<Bytes>& cells);

// Writes a node page holding `cells` in order. REQUIRES: node_bytes_needed(cells) <= page_bytes.
void build_node(char* page, size_t page_bytes, PageType type, PageId id, uint64_t txn,
                PageId leftmost, const std::vector<Bytes>& cells);

// Corruption naming file and page when the slots or cells of a node page do not parse.
Status validate_node(const char* page, size_t page_bytes, PageId id, const std::string& file);

// Read access to a node page. REQUIRES: the page is a node that passed validate_node.
class NodeView {
 public:
  NodeView(const char* page, size_t page_bytes) : page_(page), page_bytes_(page_bytes) {}
  bool is_leaf() const { return PageHeader{page_}.type() == PageType::kLeaf; }
  size_t count() const { return PageHeader{page_}.count(); }
  PageId leftmost() const { return PageHeader{page_}.link(); }
  // Encoded bytes of cell i.
  ByteView cell_bytes(size_t i) const;
  Cell cell(size_t i) const;
  // Child i of an interior node, i in [0, count()].
  PageId child(size_t i) const { return i == 0 ? leftmost() : cell(i - 1).child; }
  size_t children() const { return count() + 1; }
  size_t used_bytes() const;
  // The encoded cells, copied (what a writer edits).
  std::vector<Bytes> cells() const;

 private:
  const char* page_;
  size_t page_bytes_;
};

}  // namespace tessera::btree
