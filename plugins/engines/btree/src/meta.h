// Meta pages: the root switch of the copy-on-write tree.
//
// Pages 0 and 1 each hold a meta record; commit transaction T writes slot T % 2, so the other
// slot always keeps the previous durable state. On open the valid meta with the higher txn
// wins; a torn or damaged meta page (a crash in the middle of its write) fails its checksum and
// the other one is used, which names a tree whose pages were all fsynced before it was written.
//
//   meta page := header(type 1, page_id 0 or 1, txn) magic format_version page_bytes root
//                page_count height reserved entries
//   magic          := u64 "TSRBTREE"
//   format_version := u32 1
//   page_bytes     := u32, the page size the file was created with
//   root           := u32 page id of the root node, 0 for an empty tree
//   page_count     := u32, pages [0, page_count) belong to the tree or the free list; pages past
//                     it are garbage from a transaction that never committed
//   height         := u32 levels of nodes, 0 for an empty tree, 1 for a single leaf
//   entries        := u64 number of keys
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "page.h"
#include "page_file.h"

namespace tessera::btree {

struct Meta {
  uint64_t txn = 0;
  uint32_t page_bytes = 0;
  PageId root = kNoPage;
  PageId page_count = kFirstDataPage;
  uint32_t height = 0;
  uint64_t entries = 0;

  bool operator==(const Meta&) const = default;
};

inline constexpr uint64_t kMetaMagic = 0x4545525442525354ull;  // "TSRBTREE" read as LE bytes
inline constexpr uint32_t kFormatVersion = 1;

// Fills `page` (page_bytes) with the sealed meta page for slot meta.txn % 2.
void encode_meta(const Meta& meta, char* page);
// The meta in `page`, which was read from slot `slot`; Corruption naming the file and the page
// when it does not verify.
Result<Meta> decode_meta(const char* page, size_t page_bytes, PageId slot,
                         const std::string& file);

inline PageId meta_slot(uint64_t txn) { return static_cast<PageId>(txn % kMetaPages); }

// Reads both meta pages of `file`, trying every legal page size, and returns the valid one with
// the higher txn (and sets the file's page size from it). Corruption when neither is valid.
Result<Meta> load_newest_meta(PageFile& file);

}  // namespace tessera::btree
