// The `rocksdb` engine plugin: RocksDB behind the Tessera engine interface. A small example of
// wrapping a third-party engine, and the yardstick the native lsm engine is measured against.
//
// Mapping: get/write/iterators/snapshots map one to one onto RocksDB's; WriteOptions::sync is
// RocksDB's sync; sync() is DB::SyncWAL(). RocksDB statuses become Tessera statuses of the same
// meaning (Corruption, IOError, Busy for a locked directory, ...). Thread-safety: RocksDB's DB
// is thread-safe; each iterator is used by one thread, as the Engine contract says.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "tessera/engine.h"
#include "tessera/group_sync.h"
#include "tessera/plugin.h"

namespace tessera {
namespace {

// True for the IOError RocksDB returns when the data directory's LOCK file is held, by another
// process ("While lock file: <dir>/LOCK: ...") or by this one ("lock hold by current process,
// ..."): RocksDB has no code or subcode of its own for it, only these message prefixes
// (PosixFileSystem::LockFile). Other I/O errors stay IOError, whatever their text says.
bool is_lock_file_held(const rocksdb::Status& s) {
  if (!s.IsIOError() || s.getState() == nullptr) return false;
  std::string_view state = s.getState();
  return state.starts_with("While lock file") || state.starts_with("lock hold by current process");
}

Status from_rocksdb(const rocksdb::Status& s) {
  if (s.ok()) return Status::ok();
  std::string message = s.ToString();
  if (s.IsCorruption()) return Status::corruption(message);
  if (s.IsInvalidArgument()) return Status::invalid_argument(message);
  if (s.IsNotSupported()) return Status::not_supported(message);
  if (s.IsBusy() || s.IsTryAgain() || s.subcode() == rocksdb::Status::kLockTimeout ||
      is_lock_file_held(s)) {
    return Status::busy(message);
  }
  if (s.IsTimedOut()) return Status::timeout(message);
  if (s.IsIOError()) return Status::io_error(message);
  return Status::internal(message);
}

rocksdb::Slice slice(ByteView v) { return rocksdb::Slice(v.data(), v.size()); }
ByteView view(const rocksdb::Slice& s) { return ByteView(s.data(), s.size()); }

class RocksSnapshot : public Snapshot {
 public:
  RocksSnapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~RocksSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

const rocksdb::Snapshot* unwrap(const Snapshot* s) {
  return s != nullptr ? static_cast<const RocksSnapshot*>(s)->get() : nullptr;
}

class RocksIterator : public Iterator {
 public:
  RocksIterator(rocksdb::DB* db, const IteratorOptions& options)
      : upper_bound_(options.upper_bound) {
    rocksdb::ReadOptions ro;
    ro.snapshot = unwrap(options.snapshot);
    if (upper_bound_) {
      upper_slice_ = slice(*upper_bound_);  // RocksDB borrows it: it lives in this object
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro));
  }
  bool valid() const override { return it_->Valid(); }
  void seek(ByteView target) override { it_->Seek(slice(target)); }
  void seek_to_first() override { it_->SeekToFirst(); }
  void next() override { it_->Next(); }
  ByteView key() const override { return view(it_->key()); }
  ByteView value() const override { return view(it_->value()); }
  Status status() const override { return from_rocksdb(it_->status()); }

 private:
  std::optional<Bytes> upper_bound_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksEngine : public Engine {
 public:
  // `memtables_bytes_max`: the most the memtables can hold; bounds approximate_size's scan.
  RocksEngine(std::unique_ptr<rocksdb::DB> db, uint64_t memtables_bytes_max)
      : db_(std::move(db)), memtables_bytes_max_(memtables_bytes_max) {
    TESSERA_REQUIRE(memtables_bytes_max_ > 0);
  }
  ~RocksEngine() override {
    group_sync_.stop();
    (void)db_->Close();
  }

  Result<std::optional<Bytes>> get(const ReadOptions& options, ByteView key) override {
    rocksdb::ReadOptions ro;
    ro.snapshot = unwrap(options.snapshot);
    // The memtables and the block cache only: Incomplete when a block must be read.
    if (options.memory_only) ro.read_tier = rocksdb::kBlockCacheTier;
    std::string value;
    rocksdb::Status s = db_->Get(ro, slice(key), &value);
    if (s.IsNotFound()) return std::optional<Bytes>();
    if (s.IsIncomplete() && options.memory_only) return Status::would_block("rocksdb: not cached");
    if (!s.ok()) return from_rocksdb(s);
    return std::optional<Bytes>(std::move(value));
  }

  Status write(const WriteOptions& options, const WriteBatch& batch) override {
    rocksdb::WriteBatch rb;
    batch.for_each([&](const WriteBatch::Op& op) {
      if (op.kind == WriteBatch::OpKind::kPut) {
        rb.Put(slice(op.key), slice(op.value));
      } else {
        rb.Delete(slice(op.key));
      }
    });
    rocksdb::WriteOptions wo;
    wo.sync = options.sync;
    if (options.no_wait) {
      if (options.sync) return Status::would_block("rocksdb: a synced write waits for its fsync");
      wo.no_slowdown = true;  // Incomplete instead of a stall
    }
    rocksdb::Status s = db_->Write(wo, &rb);
    if (s.IsIncomplete() && options.no_wait) return Status::would_block("rocksdb: write stall");
    return from_rocksdb(s);
  }

  std::unique_ptr<Iterator> new_iterator(const IteratorOptions& options) override {
    return std::make_unique<RocksIterator>(db_.get(), options);
  }

  std::unique_ptr<Snapshot> snapshot() override {
    return std::make_unique<RocksSnapshot>(db_.get());
  }

  Status sync() override { return from_rocksdb(db_->SyncWAL()); }
  // SyncWAL runs beside RocksDB's writers, so waiters share it and writes go on meanwhile.
  void sync_async(SyncCallback done) override { group_sync_.submit(std::move(done)); }

  // Monotone in the range (a range holds at least what any range inside it holds), which
  // GetApproximateSizes over the memtables is not: it estimates their part from a sample of
  // entries, which can give a range less than a range inside it. So the answer is the files'
  // part from GetApproximateSizes (index offsets: monotone) plus the memtables' part counted
  // exactly, key and value bytes of a memtable-only scan of the range.
  Result<uint64_t> approximate_size(ByteView start, ByteView end) override {
    if (!end.empty() && end <= start) return uint64_t{0};
    TESSERA_ASSIGN_OR_RETURN(uint64_t memtable_bytes, memtable_bytes_in(start, end));
    Bytes limit(end);
    if (end.empty()) {
      // GetApproximateSizes needs a finite range: end just past the last key.
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
      it->SeekToLast();
      TESSERA_RETURN_IF_ERROR(from_rocksdb(it->status()));
      if (!it->Valid()) return memtable_bytes;
      limit.assign(it->key().data(), it->key().size());
      limit.push_back('\0');
    }
    if (limit <= Bytes(start)) return memtable_bytes;
    rocksdb::Range range(slice(start), slice(limit));
    uint64_t file_bytes = 0;
    rocksdb::SizeApproximationOptions options;
    options.include_memtables = false;
    options.include_files = true;
    options.files_size_error_margin = -1.0;  // exact per file: a margin may skip edge files
    rocksdb::Status s =
        db_->GetApproximateSizes(options, db_->DefaultColumnFamily(), &range, 1, &file_bytes);
    if (!s.ok()) return from_rocksdb(s);
    return file_bytes + memtable_bytes;
  }

  EngineStats stats() override {
    EngineStats stats;
    for (const char* name : {"rocksdb.estimate-num-keys", "rocksdb.total-sst-files-size",
                             "rocksdb.cur-size-all-mem-tables", "rocksdb.num-running-compactions",
                             "rocksdb.block-cache-usage", "rocksdb.num-files-at-level0"}) {
      uint64_t value = 0;
      if (db_->GetIntProperty(name, &value)) stats[name] = static_cast<double>(value);
    }
    group_sync_.add_stats(&stats);
    return stats;
  }

 private:
  // Key and value bytes of the memtables' (mutable and immutable) newest visible entries in
  // [start, end), end empty meaning "to the end"; a key in both a memtable and a file counts in
  // both parts, as overwritten data does. The scan is bounded by what the memtables can hold
  // (write_buffer_size x max_write_buffer_number, which RocksDB enforces by stalling writers);
  // the count stops at that bound, which keeps it monotone: min(exact, constant).
  Result<uint64_t> memtable_bytes_in(ByteView start, ByteView end) {
    rocksdb::ReadOptions ro;
    ro.read_tier = rocksdb::kMemtableTier;
    rocksdb::Slice upper = slice(end);
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    uint64_t bytes = 0;
    for (it->Seek(slice(start)); it->Valid() && bytes < memtables_bytes_max_; it->Next()) {
      bytes += it->key().size() + it->value().size();
    }
    TESSERA_RETURN_IF_ERROR(from_rocksdb(it->status()));
    return std::min(bytes, memtables_bytes_max_);
  }

  std::unique_ptr<rocksdb::DB> db_;
  uint64_t memtables_bytes_max_;
  GroupSync group_sync_{[this] { return sync(); }};
};

constexpr std::array kConfigKeys = {
    ConfigKeySpec{"memtable_bytes_max", "RocksDB write_buffer_size (default 64 MiB)"},
    ConfigKeySpec{"block_cache_bytes_max", "LRU block cache capacity (default 64 MiB)"},
    ConfigKeySpec{"bloom_bits_per_key", "bloom filter bits per key (default 10)"},
    ConfigKeySpec{"compression", "\"none\" (default), \"zstd\" or \"lz4\""},
    ConfigKeySpec{"background_jobs", "RocksDB max_background_jobs (default 2)"},
};

Result<std::unique_ptr<Engine>> make_rocksdb_engine(const PluginContext& context,
                                                    const ConfigSection& config) noexcept {
  if (context.data_dir.empty()) {
    return Status::invalid_argument("rocksdb engine: needs a data directory");
  }
  TESSERA_ASSIGN_OR_RETURN(int64_t memtable,
                           config.get_int("memtable_bytes_max", 64 << 20, 64 << 10));
  TESSERA_ASSIGN_OR_RETURN(int64_t cache, config.get_int("block_cache_bytes_max", 64 << 20, 0));
  TESSERA_ASSIGN_OR_RETURN(int64_t bloom, config.get_int("bloom_bits_per_key", 10, 1, 64));
  TESSERA_ASSIGN_OR_RETURN(std::string compression, config.get_string("compression", "none"));
  TESSERA_ASSIGN_OR_RETURN(int64_t jobs, config.get_int("background_jobs", 2, 1, 64));

  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = static_cast<size_t>(memtable);
  options.max_background_jobs = static_cast<int>(jobs);
  if (compression == "none") {
    options.compression = rocksdb::kNoCompression;
  } else if (compression == "zstd") {
    options.compression = rocksdb::kZSTD;
  } else if (compression == "lz4") {
    options.compression = rocksdb::kLZ4Compression;
  } else {
    return Status::invalid_argument(config.where("compression") +
                                    ": expected \"none\", \"zstd\" or \"lz4\"");
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(cache));
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(static_cast<double>(bloom)));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, context.data_dir.string(), &db);
  if (!s.ok()) return from_rocksdb(s);
  uint64_t memtables_bytes_max =
      options.write_buffer_size * static_cast<uint64_t>(options.max_write_buffer_number);
  return std::unique_ptr<Engine>(
      std::make_unique<RocksEngine>(std::unique_ptr<rocksdb::DB>(db), memtables_bytes_max));
}

}  // namespace

extern const PluginDescriptor rocksdb_engine_descriptor;
const PluginDescriptor rocksdb_engine_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kEngine,
    .name = "rocksdb",
    .version = "1.0.0",
    .description = "RocksDB (librocksdb) behind the engine interface",
    .config_keys = kConfigKeys.data(),
    .config_key_count = kConfigKeys.size(),
    .make_engine = make_rocksdb_engine,
};

}  // namespace tessera

TESSERA_EXPORT_PLUGIN(tessera::rocksdb_engine_descriptor)
