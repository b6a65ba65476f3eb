// BtreeEngine: the Engine contract over one copy-on-write B+ tree file.
//
// Files in the data directory: `btree.db` (pages, page.h; meta pages, meta.h). It is created
// whole as `btree.db.init` and renamed into place, so a crash during creation leaves no
// half-made file behind.
//
// Versions. Every write group is one transaction txn = previous + 1, producing a new root. The
// published version (root, height, entries, txn) is what reads without a snapshot see.
// A snapshot or an iterator pins its version's txn; the writer never changes or reuses a page
// a pinned version can reach (tree.h, free_list.h), so pinned readers need no lock at all.
//
// Durability (checkpoint): flush the dirty pages, fsync, write the meta page naming the new
// root into slot txn % 2, fsync. A sync write returns after the checkpoint that covers it.
// Concurrent writers queue; the one at the front applies the whole queue as one transaction
// and runs one checkpoint for all of them when any asked for sync (group commit). Writes that
// did not ask are checkpointed when enough pages wait to be freed, and at close.
//
// Failure: an I/O error or corruption met while applying or checkpointing leaves in-memory
// pages in an unknown state, so the engine fails every later call with that error; the file
// still holds the last checkpoint, which a reopen recovers.
//
// Locks: queue_mutex_ orders writers; tree_mutex_ is held exclusively while a transaction is
// applied and shared by point reads of the published version (which pin nothing);
// pins_mutex_ guards the pinned txns. Order: queue_mutex_ is never held with the others.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "buffer_pool.h"
#include "free_list.h"
#include "meta.h"
#include "options.h"
#include "page_file.h"
#include "tessera/engine.h"
#include "tessera/group_sync.h"
#include "tree.h"

namespace tessera::btree {

class BtreeEngine : public Engine {
 public:
  static Result<std::unique_ptr<BtreeEngine>> open(const std::filesystem::path& dir,
                                                   const BtreeOptions& options);
  ~BtreeEngine() override;

  Result<std::optional<Bytes>> get(const ReadOptions& options, ByteView key) override;
  Status write(const WriteOptions& options, const WriteBatch& batch) override;
  std::unique_ptr<Iterator> new_iterator(const IteratorOptions& options) override;
  std::unique_ptr<Snapshot> snapshot() override;
  Status sync() override;
  // Waiters share one checkpoint. The checkpoint runs as a write-queue leader, so writes that
  // arrive meanwhile wait for it (the copy-on-write tree has one writer at a time).
  void sync_async(SyncCallback done) override { group_sync_.submit(std::move(done)); }
  Result<uint64_t> approximate_size(ByteView start, ByteView end) override;
  EngineStats stats() override;

  struct Version {
    uint64_t txn = 0;
    TreeRoot root;
  };
  // A pinned version: unpins on destruction. Used by snapshots and iterators.
  class Pin {
   public:
    Pin(BtreeEngine* engine, Version version) : engine_(engine), version_(version) {}
    ~Pin() { engine_->unpin(version_.txn); }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    const Version& version() const { return version_; }

   private:
    BtreeEngine* engine_;
    Version version_;
  };
  const TreeContext& tree() const { return tree_; }

 private:
  struct Writer {
    const WriteBatch* batch = nullptr;
    bool sync = false;
    bool done = false;
    Status status;
    std::condition_variable cv;
  };

  BtreeEngine(std::unique_ptr<PageFile> file, const Meta& meta, FreeList free_list,
              size_t frames);

  std::unique_ptr<Pin> pin_current();
  void unpin(uint64_t txn);
  Status failure() const;
  // Leader work: applies the group as one transaction and publishes it.
  Status apply(const std::vector<Writer*>& group);
  // Makes the published version durable (see the top comment). Leader only.
  Status checkpoint();
  void publish_counts();

  std::unique_ptr<PageFile> file_;
  std::unique_ptr<BufferPool> pool_;
  TreeContext tree_;
  const size_t frames_;

  std::shared_mutex tree_mutex_;
  Version current_;  // guarded by tree_mutex_; written only by the leader

  std::mutex pins_mutex_;
  std::multiset<uint64_t> pins_;

  mutable std::mutex queue_mutex_;
  std::deque<Writer*> queue_;
  Status failed_;                     // guarded by queue_mutex_
  std::atomic<bool> has_failed_{false};

  // Leader-only state.
  FreeList free_list_;
  uint64_t durable_txn_;

  // Counters for stats(), written by the leader.
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> transactions_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> page_count_{0};
  std::atomic<uint64_t> reusable_pages_{0};
  std::atomic<uint64_t> pending_pages_{0};
  std::atomic<uint64_t> durable_txn_seen_{0};

  // Last member: destroyed (stopped) first, before what its syncs use.
  GroupSync group_sync_{[this] { return sync(); }};
};

}  // namespace tessera::btree
