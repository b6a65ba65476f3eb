// BtreeEngine: the write queue (group commit), transactions and checkpoints.
#include <algorithm>

#include "btree_engine.h"

namespace tessera::btree {
namespace {

// A leader stops adding queued batches to its group past this many bytes, so that one
// transaction (and the latency of the writers in it) stays bounded.
constexpr size_t kGroupBytesMax = 4ull << 20;
// Unsynced writes are checkpointed once this many pages, or a quarter of the pool if that is
// more, wait to be freed: without a checkpoint they never become reusable and the file grows.
constexpr size_t kCheckpointPendingPagesMin = 256;

}  // namespace

Status BtreeEngine::write(const WriteOptions& options, const WriteBatch& batch) {
  if (options.no_wait) return Status::would_block("btree: a write may need the page file");
  if (batch.empty() && !options.sync) return failure();
  Writer self;
  self.batch = &batch;
  self.sync = options.sync;
  std::unique_lock lock(queue_mutex_);
  queue_.push_back(&self);
  while (!self.done && &self != queue_.front()) self.cv.wait(lock);
  if (self.done) return self.status;

  // Leader: take the queue up to the byte bound, apply it as one transaction.
  std::vector<Writer*> group;
  size_t bytes = 0;
  bool sync = false;
  for (Writer* w : queue_) {
    if (!group.empty() && bytes + w->batch->byte_size() > kGroupBytesMax) break;
    group.push_back(w);
    bytes += w->batch->byte_size();
    sync = sync || w->sync;
  }
  Status status = failed_;
  lock.unlock();

  if (status.is_ok()) status = apply(group);
  size_t pending_max = std::max(kCheckpointPendingPagesMin, frames_ / 4);
  if (status.is_ok() && (sync || free_list_.pending_count() > pending_max)) {
    status = checkpoint();
  }
  publish_counts();

  lock.lock();
  if (!status.is_ok() && failed_.is_ok()) {
    failed_ = status;
    has_failed_.store(true, std::memory_order_release);
  }
  for (Writer* w : group) {
    TESSERA_ASSERT(queue_.front() == w);
    queue_.pop_front();
    w->status = status;
    w->done = true;
    if (w != &self) w->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return status;
}

Status BtreeEngine::sync() {
  WriteBatch empty;
  return write(WriteOptions{.sync = true}, empty);
}

Status BtreeEngine::apply(const std::vector<Writer*>& group) {
  size_t ops = 0;
  for (const Writer* w : group) ops += w->batch->count();
  if (ops == 0) return Status::ok();

  std::unique_lock tree_lock(tree_mutex_);
  uint64_t txn = current_.txn + 1;
  uint64_t oldest_pin = UINT64_MAX;
  uint64_t newest_pin = 0;
  {
    std::lock_guard lock(pins_mutex_);
    if (!pins_.empty()) {
      oldest_pin = *pins_.begin();
      newest_pin = *pins_.rbegin();
    }
  }
  // Pages released at txn t are out of every version >= t; once the durable tree and every
  // pinned reader are at t or later, nothing can read them.
  for (PageId id : free_list_.reclaim(std::min(durable_txn_, oldest_pin))) pool_->forget(id);

  TreeWriter writer(tree_, free_list_, current_.root, txn, std::max(durable_txn_, newest_pin));
  Status status;
  for (const Writer* w : group) {
    w->batch->for_each([&](const WriteBatch::Op& op) {
      if (!status.is_ok()) return;
      status = op.kind == WriteBatch::OpKind::kPut ? writer.put(op.key, op.value)
                                                   : writer.del(op.key);
    });
    TESSERA_RETURN_IF_ERROR(status);
    bytes_written_.fetch_add(w->batch->byte_size(), std::memory_order_relaxed);
  }
  current_ = Version{txn, writer.root()};
  writes_.fetch_add(group.size(), std::memory_order_relaxed);
  transactions_.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

Status BtreeEngine::checkpoint() {
  // Only the leader changes current_, and the leader is us: no lock needed to read it.
  Version v = current_;
  if (v.txn == durable_txn_) return Status::ok();
  TESSERA_RETURN_IF_ERROR(pool_->flush());
  TESSERA_RETURN_IF_ERROR(file_->sync());  // the new tree is on disk before any meta names it
  Meta meta{.txn = v.txn,
            .page_bytes = static_cast<uint32_t>(tree_.page_bytes),
            .root = v.root.root,
            .page_count = free_list_.page_count(),
            .height = v.root.height,
            .entries = v.root.entries};
  std::unique_ptr<char[]> page(new char[tree_.page_bytes]);
  encode_meta(meta, page.get());
  TESSERA_RETURN_IF_ERROR(file_->write(meta_slot(v.txn), page.get()));
  TESSERA_RETURN_IF_ERROR(file_->sync());
  durable_txn_ = v.txn;
  checkpoints_.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

void BtreeEngine::publish_counts() {
  page_count_.store(free_list_.page_count());
  reusable_pages_.store(free_list_.reusable_count());
  pending_pages_.store(free_list_.pending_count());
  durable_txn_seen_.store(durable_txn_);
}

}  // namespace tessera::btree
