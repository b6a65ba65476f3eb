// The open scan: walks the durable tree once to find which pages it uses, so that every other
// page below page_count is free (free_list.h says why the free list is not stored). Checks each
// page's checksum and node structure on the way, so damage anywhere in the tree is reported at
// open as Corruption naming the file and page.
// Thread-safety: reentrant.
#pragma once

#include <vector>

#include "meta.h"
#include "page_file.h"

namespace tessera::btree {

// The free pages of the tree `meta` names, in ascending order.
Result<std::vector<PageId>> scan_free_pages(const PageFile& file, const Meta& meta);

}  // namespace tessera::btree
