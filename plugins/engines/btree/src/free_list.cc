#include "free_list.h"

#include "tessera/assert.h"

namespace tessera::btree {

FreeList::FreeList(std::vector<PageId> free, PageId page_count)
    : reusable_(free.begin(), free.end()), page_count_(page_count) {
  TESSERA_ASSERT(page_count >= kFirstDataPage);
  for (PageId id : free) TESSERA_ASSERT(id >= kFirstDataPage && id < page_count);
}

PageId FreeList::allocate() {
  if (!reusable_.empty()) {
    PageId id = *reusable_.begin();
    reusable_.erase(reusable_.begin());
    return id;
  }
  TESSERA_ASSERT(page_count_ < UINT32_MAX, "data file is out of page numbers");
  return page_count_++;
}

void FreeList::release(PageId id, uint64_t txn) {
  TESSERA_ASSERT(id >= kFirstDataPage && id < page_count_);
  TESSERA_ASSERT(pending_.empty() || pending_.back().txn <= txn);
  pending_.push_back({id, txn});
}

std::vector<PageId> FreeList::reclaim(uint64_t horizon) {
  std::vector<PageId> out;
  while (!pending_.empty() && pending_.front().txn <= horizon) {
    PageId id = pending_.front().id;
    pending_.pop_front();
    bool inserted = reusable_.insert(id).second;
    TESSERA_ASSERT(inserted, "page freed twice");
    out.push_back(id);
  }
  return out;
}

}  // namespace tessera::btree
