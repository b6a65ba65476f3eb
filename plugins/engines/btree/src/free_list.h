// FreeList: which pages may be written next.
//
// A page that leaves the tree in transaction T (replaced by its copy, merged away, an overflow
// chain of a deleted value) is still part of every older version: of the last durable tree on
// disk when T is not yet durable, and of the view of any reader pinned before T. So it waits
// as pending until both are past: it becomes reusable once T <= the durable txn and T <= the
// oldest pinned reader's txn (reclaim's `horizon`). New pages come from the reusable set,
// lowest page first (to keep the file dense), and only then from the end of the file.
//
// The free list is not stored on disk: on open, every page below page_count that the durable
// tree does not reach is free (see the engine's open scan). This also returns the pages of a
// transaction that was cut short by a crash.
// Thread-safety: none; the engine's writer owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <vector>

#include "page.h"

namespace tessera::btree {

class FreeList {
 public:
  FreeList() = default;
  FreeList(std::vector<PageId> free, PageId page_count);

  // A page to write: the lowest reusable one, else a new one at the end of the file.
  PageId allocate();
  // `id` left the tree in transaction `txn`. REQUIRES: txn >= every earlier release's txn.
  void release(PageId id, uint64_t txn);
  // Moves the pending pages released at txn <= horizon to the reusable set and returns them
  // (so that the buffer pool can drop what it caches of them).
  std::vector<PageId> reclaim(uint64_t horizon);

  PageId page_count() const { return page_count_; }
  size_t reusable_count() const { return reusable_.size(); }
  size_t pending_count() const { return pending_.size(); }

 private:
  struct Pending {
    PageId id;
    uint64_t txn;
  };
  std::set<PageId> reusable_;
  std::deque<Pending> pending_;  // ordered by txn
  PageId page_count_ = kFirstDataPage;
};

}  // namespace tessera::btree
