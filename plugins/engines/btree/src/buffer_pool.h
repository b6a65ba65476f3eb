// BufferPool: node pages cached in memory, bounded by frame count, evicted least recently used.
//
// A PageRef pins its frame: a pinned frame is never evicted, so the bytes it shows stay put.
// Pages read from disk are checksummed and validated as nodes before anyone sees them. A page
// the writer built (create) is dirty until it is written: either when it is evicted or when the
// engine flushes before a commit. Writing a dirty page early is safe because a page is only
// ever written where the free list allowed it (free_list.h): never over a page of the durable
// tree or of a pinned reader's view. Dirty pages that left the tree (mark_freed) are not
// flushed, but still written if evicted, since an older reader may yet read them.
//
// Memory: at most frames_max frames, except that pinned frames are never evicted, so a burst
// of pins (many open iterators) can exceed it until they are released.
// Thread-safety: all methods may be called concurrently; one mutex guards the map, the LRU
// list, pins and flags. Reads from disk on a miss happen outside the mutex. Only the engine's
// single writer changes page bytes, and only in frames no reader can reach (engine.h).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "page.h"
#include "page_file.h"

namespace tessera::btree {

class BufferPool {
  struct Frame;

 public:
  // A pinned page. Move-only; unpins on destruction.
  class PageRef {
   public:
    PageRef() = default;
    PageRef(PageRef&& other) noexcept { *this = std::move(other); }
    PageRef& operator=(PageRef&& other) noexcept;
    ~PageRef() { reset(); }
    void reset();
    explicit operator bool() const { return frame_ != nullptr; }
    PageId id() const;
    const char* data() const;
    // REQUIRES: the caller is the writer and no reader can reach this page.
    char* mutable_data();

   private:
    friend class BufferPool;
    PageRef(BufferPool* pool, Frame* frame) : pool_(pool), frame_(frame) {}
    BufferPool* pool_ = nullptr;
    Frame* frame_ = nullptr;
  };

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
    uint64_t pages_written = 0;
    size_t frames = 0;
    size_t dirty = 0;
  };

  BufferPool(PageFile& file, size_t frames_max);
  ~BufferPool();

  // Page `id`, read and validated on a miss. Corruption / IOError from the read.
  Result<PageRef> fetch(PageId id);
  // A fresh zeroed frame for page `id`, dirty, replacing whatever was cached for that id.
  // REQUIRES: `id` was just allocated, so no one holds a PageRef to it.
  PageRef create(PageId id);
  // Marks a page the writer changed in place (mutable_data) as dirty.
  void mark_dirty(const PageRef& ref);
  // The page left the current tree: a flush skips it.
  void mark_freed(PageId id);
  // The page is free for reuse: drops its frame. REQUIRES: unpinned.
  void forget(PageId id);
  // Writes every dirty frame that is still in the tree. Does not sync.
  Status flush();

  Stats stats() const;

 private:
  struct Frame {
    PageId id;
    std::unique_ptr<char[]> data;
    int pins = 0;
    bool dirty = false;
    bool freed = false;
    std::list<Frame*>::iterator lru;  // position in lru_, front = most recent
  };

  void unpin(Frame* frame);
  // Evicts unpinned frames, least recent first, until within frames_max. REQUIRES: mutex_ held.
  void evict_locked();
  // Seals a copy of the frame and writes it. REQUIRES: mutex_ held.
  Status write_locked(Frame* frame);
  Frame* insert_locked(PageId id, std::unique_ptr<char[]> data);

  PageFile& file_;
  const size_t frames_max_;
  mutable std::mutex mutex_;
  std::unordered_map<PageId, std::unique_ptr<Frame>> frames_;
  std::list<Frame*> lru_;
  Stats stats_;
};

using PageRef = BufferPool::PageRef;

}  // namespace tessera::btree
