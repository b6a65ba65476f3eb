// BtreeEngine: open, reads, snapshots and iterators. Writes and checkpoints: engine_write.cc.
#include "btree_engine.h"

#include <algorithm>

#include "cursor.h"
#include "open_scan.h"

namespace tessera::btree {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDataFileName = "btree.db";
constexpr const char* kInitFileName = "btree.db.init";

// Writes a fresh file with both meta slots naming an empty tree, then renames it into place.
Status create_data_file(const fs::path& dir, size_t page_bytes) {
  fs::path init = dir / kInitFileName;
  std::error_code ec;
  fs::remove(init, ec);
  {
    TESSERA_ASSIGN_OR_RETURN(auto file, PageFile::open(init, page_bytes));
    std::unique_ptr<char[]> page(new char[page_bytes]);
    for (uint64_t txn = 0; txn < kMetaPages; ++txn) {
      Meta meta{.txn = txn, .page_bytes = static_cast<uint32_t>(page_bytes)};
      encode_meta(meta, page.get());
      TESSERA_RETURN_IF_ERROR(file->write(meta_slot(txn), page.get()));
    }
    TESSERA_RETURN_IF_ERROR(file->sync());
  }
  fs::rename(init, dir / kDataFileName, ec);
  if (ec) return Status::io_error((dir / kInitFileName).string() + ": rename: " + ec.message());
  return sync_dir(dir);
}

class BtreeSnapshot : public Snapshot {
 public:
  explicit BtreeSnapshot(std::unique_ptr<BtreeEngine::Pin> pin) : pin_(std::move(pin)) {}
  const BtreeEngine::Version& version() const { return pin_->version(); }

 private:
  std::unique_ptr<BtreeEngine::Pin> pin_;
};

class BtreeIterator : public Iterator {
 public:
  BtreeIterator(std::unique_ptr<BtreeEngine::Pin> pin, const TreeContext& tree,
                std::optional<Bytes> upper_bound, Status failed)
      : pin_(std::move(pin)),
        cursor_(tree, pin_->version().root.root),
        upper_bound_(std::move(upper_bound)),
        status_(std::move(failed)) {}

  bool valid() const override {
    return status_.is_ok() && cursor_.valid() &&
           (!upper_bound_ || cursor_.key() < ByteView(*upper_bound_));
  }
  void seek(ByteView target) override {
    if (status_.is_ok()) status_ = cursor_.seek(target);
  }
  void seek_to_first() override {
    if (status_.is_ok()) status_ = cursor_.seek_to_first();
  }
  void next() override {
    TESSERA_REQUIRE(valid());
    status_ = cursor_.next();
  }
  ByteView key() const override {
    TESSERA_REQUIRE(valid());
    return cursor_.key();
  }
  ByteView value() const override {
    TESSERA_REQUIRE(valid());
    return cursor_.value();
  }
  Status status() const override { return status_; }

 private:
  // Declared before the cursor so that the cursor's page pins go before the version pin.
  std::unique_ptr<BtreeEngine::Pin> pin_;
  Cursor cursor_;
  std::optional<Bytes> upper_bound_;
  Status status_;
};

}  // namespace

Result<std::unique_ptr<BtreeEngine>> BtreeEngine::open(const fs::path& dir,
                                                       const BtreeOptions& options) {
  std::error_code ec;
  if (!fs::exists(dir / kDataFileName, ec)) {
    TESSERA_RETURN_IF_ERROR(create_data_file(dir, options.page_bytes));
  }
  TESSERA_ASSIGN_OR_RETURN(auto file, PageFile::open(dir / kDataFileName, options.page_bytes));
  TESSERA_ASSIGN_OR_RETURN(Meta meta, load_newest_meta(*file));
  TESSERA_ASSIGN_OR_RETURN(std::vector<PageId> free, scan_free_pages(*file, meta));
  size_t frames = std::max(kBufferPoolFramesMin, options.buffer_pool_bytes_max / meta.page_bytes);
  return std::unique_ptr<BtreeEngine>(
      new BtreeEngine(std::move(file), meta, FreeList(std::move(free), meta.page_count), frames));
}

BtreeEngine::BtreeEngine(std::unique_ptr<PageFile> file, const Meta& meta, FreeList free_list,
                         size_t frames)
    : file_(std::move(file)),
      pool_(std::make_unique<BufferPool>(*file_, frames)),
      tree_{*pool_, *file_, meta.page_bytes},
      frames_(frames),
      current_{meta.txn, TreeRoot{meta.root, meta.height, meta.entries}},
      free_list_(std::move(free_list)),
      durable_txn_(meta.txn) {
  publish_counts();
}

BtreeEngine::~BtreeEngine() {
  group_sync_.stop();
  // A clean close keeps unsynced writes too; an error here leaves the last checkpoint.
  if (!has_failed_.load()) (void)checkpoint();
}

Status BtreeEngine::failure() const {
  if (!has_failed_.load(std::memory_order_acquire)) return Status::ok();
  std::lock_guard lock(queue_mutex_);
  return failed_;
}

std::unique_ptr<BtreeEngine::Pin> BtreeEngine::pin_current() {
  std::shared_lock tree_lock(tree_mutex_);
  std::lock_guard lock(pins_mutex_);
  pins_.insert(current_.txn);
  return std::make_unique<Pin>(this, current_);
}

void BtreeEngine::unpin(uint64_t txn) {
  std::lock_guard lock(pins_mutex_);
  auto it = pins_.find(txn);
  TESSERA_ASSERT(it != pins_.end());
  pins_.erase(it);
}

Result<std::optional<Bytes>> BtreeEngine::get(const ReadOptions& options, ByteView key) {
  // A probe may read pages from the file; the buffer pool cannot promise a path is resident.
  if (options.memory_only) return Status::would_block("btree: a read may need the page file");
  TESSERA_RETURN_IF_ERROR(failure());
  if (options.snapshot != nullptr) {
    const auto* snapshot = static_cast<const BtreeSnapshot*>(options.snapshot);
    return tree_get(tree_, snapshot->version().root.root, key);
  }
  std::shared_lock lock(tree_mutex_);
  return tree_get(tree_, current_.root.root, key);
}

std::unique_ptr<Iterator> BtreeEngine::new_iterator(const IteratorOptions& options) {
  std::unique_ptr<Pin> pin;
  if (options.snapshot != nullptr) {
    const Version& v = static_cast<const BtreeSnapshot*>(options.snapshot)->version();
    std::lock_guard lock(pins_mutex_);
    pins_.insert(v.txn);
    pin = std::make_unique<Pin>(this, v);
  } else {
    pin = pin_current();
  }
  return std::make_unique<BtreeIterator>(std::move(pin), tree_, options.upper_bound, failure());
}

std::unique_ptr<Snapshot> BtreeEngine::snapshot() {
  return std::make_unique<BtreeSnapshot>(pin_current());
}

Result<uint64_t> BtreeEngine::approximate_size(ByteView start, ByteView end) {
  TESSERA_RETURN_IF_ERROR(failure());
  if (!end.empty() && end <= start) return uint64_t{0};
  std::shared_lock lock(tree_mutex_);
  TESSERA_ASSIGN_OR_RETURN(double from, tree_position(tree_, current_.root.root, start));
  double to = 1.0;
  if (!end.empty()) {
    TESSERA_ASSIGN_OR_RETURN(to, tree_position(tree_, current_.root.root, end));
  }
  uint64_t live_pages = page_count_.load() - kMetaPages - reusable_pages_.load() -
                        pending_pages_.load();
  double bytes = std::max(0.0, to - from) * static_cast<double>(live_pages * tree_.page_bytes);
  return static_cast<uint64_t>(bytes);
}

EngineStats BtreeEngine::stats() {
  BufferPool::Stats pool = pool_->stats();
  Version v;
  {
    std::shared_lock lock(tree_mutex_);
    v = current_;
  }
  auto d = [](uint64_t x) { return static_cast<double>(x); };
  EngineStats stats{
      {"keys", d(v.root.entries)},
      {"tree_height", d(v.root.height)},
      {"txn", d(v.txn)},
      {"durable_txn", d(durable_txn_seen_.load())},
      {"page_bytes", d(tree_.page_bytes)},
      {"pages", d(page_count_.load())},
      {"file_bytes", d(page_count_.load() * tree_.page_bytes)},
      {"free_pages", d(reusable_pages_.load())},
      {"pending_free_pages", d(pending_pages_.load())},
      {"bytes_written", d(bytes_written_.load())},
      {"writes", d(writes_.load())},
      {"transactions", d(transactions_.load())},
      {"checkpoints", d(checkpoints_.load())},
      {"pool_frames", d(pool.frames)},
      {"pool_frames_max", d(frames_)},
      {"pool_dirty_frames", d(pool.dirty)},
      {"pool_hits", d(pool.hits)},
      {"pool_misses", d(pool.misses)},
      {"pool_evictions", d(pool.evictions)},
      {"pages_written", d(pool.pages_written)},
  };
  group_sync_.add_stats(&stats);
  return stats;
}

}  // namespace tessera::btree
