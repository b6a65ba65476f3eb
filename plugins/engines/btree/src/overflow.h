// Overflow chains: keys and values too large for a cell, stored across whole pages.
//
//   overflow page := header(type 4, count = payload bytes, link = next page or 0) payload
//   chain         := overflow page+, payloads concatenated in link order
//
// A chain belongs to the cell that names it, not to the node page that holds the cell: copying
// a node (copy-on-write) copies the reference and shares the chain, and the chain is freed only
// when its cell is deleted or its value replaced. Chains are written once and never changed,
// so they bypass the buffer pool: written straight to the file, read straight from it.
// Thread-safety: the functions are reentrant; the allocator callback is the caller's business.
#pragma once

#include <functional>
#include <vector>

#include "page.h"
#include "page_file.h"
#include "tessera/bytes.h"

namespace tessera::btree {

inline size_t overflow_payload_bytes(size_t page_bytes) { return page_bytes - kPageHeaderBytes; }

// Writes `data` (non-empty) as a new chain of pages taken from `allocate`, each stamped with
// `txn`. Returns the first page.
Result<PageId> write_overflow(PageFile& file, const std::function<PageId()>& allocate,
                              uint64_t txn, ByteView data);

// Reads the chain starting at `first` that must hold exactly `length` bytes. Corruption naming
// the file and page on a bad checksum, a wrong page type, a short or long chain, or a chain
// that runs past `page_count`.
Result<Bytes> read_overflow(const PageFile& file, PageId first, uint32_t length,
                            PageId page_count);

// The pages of the chain, in order, checked like read_overflow.
Status overflow_pages(const PageFile& file, PageId first, uint32_t length, PageId page_count,
                      std::vector<PageId>* pages);

}  // namespace tessera::btree
