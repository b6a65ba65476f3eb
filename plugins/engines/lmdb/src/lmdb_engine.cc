// The `lmdb` engine plugin: LMDB (a copy-on-write B+ tree in one memory-mapped file) behind the
// Tessera engine interface. A small example of wrapping a third-party engine, and a yardstick
// for the native engines.
//
// Mapping: a write is one LMDB write transaction (LMDB allows one writer at a time); a get, an
// iterator and a snapshot each hold a read transaction, which pins a consistent version of the
// tree.
//
// Durability: by default the environment is opened with MDB_NOMETASYNC, not MDB_NOSYNC. LMDB's
// crash safety rests on ordering: a commit's new pages must be on disk before the meta page that
// points at them. MDB_NOSYNC drops that ordering (lmdb.h: "a system crash can corrupt the
// database"), which the Engine contract forbids for every write, synced or not. MDB_NOMETASYNC
// keeps it: each commit fdatasyncs its pages, then writes the meta page without waiting, so a
// machine crash can at most undo the last commit, and the next commit's fdatasync makes the
// previous one durable. A sync write or sync() then calls mdb_env_sync, which flushes the meta
// page too (a second fdatasync); concurrent sync writers share it only by luck of timing.
//
// The config key `unsafe_nosync` opts out of that contract: MDB_NOSYNC, so commits do not
// fdatasync at all (LMDB's own benchmarks run unsynced workloads this way). A sync write and
// sync() still call mdb_env_sync, which fdatasyncs everything so far, and a process crash loses
// nothing (the pages are in the page cache); but a machine crash may corrupt the database, synced
// data included, when the kernel wrote a later meta page before the pages it points at.
//
// Snapshots: snapshot() cannot return an error, and a read transaction needs one of
// max_readers reader slots. When none is free, snapshot() returns a failed snapshot whose every
// read (get, iterator) reports Busy naming the limit, instead of stopping the process.
//
// Keys: LMDB keys are 1..511 bytes, Tessera keys 0..any. Every key is stored with a one-byte
// prefix (so the empty key is legal). Keys up to kDirectKeyBytes are stored whole. A longer key
// is stored as its first kDirectKeyBytes bytes plus a 64-bit hash of the whole key, and the
// whole key travels in the value:
//   stored_value := 0x00 value | 0x01 varint32(key_len) key value
// Limitation: among keys that share their first kDirectKeyBytes bytes with a longer key, scan
// order follows the hash rather than the bytes. Point operations are exact.
//
// Thread-safety: all Engine methods may be called concurrently (read transactions are
// MDB_NOTLS, so any thread may use them); reads through one snapshot are serialized by its
// mutex.
#include <lmdb.h>
#define XXH_INLINE_ALL  // header-only use: no library to link
#include <xxhash.h>

#include <array>
#include <mutex>
#include <string>

#include "tessera/coding.h"
#include "tessera/engine.h"
#include "tessera/group_sync.h"
#include "tessera/plugin.h"

namespace tessera {
namespace {

constexpr size_t kDirectKeyBytes = 500;
static_assert(1 + kDirectKeyBytes + 8 <= 511, "an encoded key must fit LMDB's key limit");

Status from_lmdb(int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return Status::corruption(message);
    case MDB_MAP_FULL:
      return Status::too_large(message + " (raise map_bytes_max)");
    case MDB_READERS_FULL:
      return Status::busy(message + " (raise max_readers)");
    case MDB_BAD_VALSIZE:
      return Status::too_large(message);
    default:
      return Status::io_error(message);
  }
}

MDB_val to_val(ByteView v) { return MDB_val{v.size(), const_cast<char*>(v.data())}; }
ByteView to_view(const MDB_val& v) {
  return ByteView(static_cast<const char*>(v.mv_data), v.mv_size);
}

Bytes encode_key(ByteView key) {
  Bytes out(1, '\0');
  if (key.size() <= kDirectKeyBytes) {
    out.append(key);
  } else {
    out.append(key.substr(0, kDirectKeyBytes));
    put_fixed64_be(&out, XXH3_64bits(key.data(), key.size()));
  }
  return out;
}

Bytes encode_value(ByteView key, ByteView value) {
  Bytes out;
  if (key.size() <= kDirectKeyBytes) {
    out.push_back('\0');
  } else {
    out.push_back('\1');
    put_length_prefixed(&out, key);
  }
  out.append(value);
  return out;
}

// Splits a stored (key, value) into the user's key and value; false on bytes we did not write.
bool decode_entry(ByteView stored_key, ByteView stored_value, ByteView* key, ByteView* value) {
  if (stored_key.empty() || stored_value.empty()) return false;
  char flag = stored_value[0];
  stored_value.remove_prefix(1);
  if (flag == '\0') {
    *key = stored_key.substr(1);
  } else if (flag != '\1' || !get_length_prefixed(&stored_value, key)) {
    return false;
  }
  *value = stored_value;
  return true;
}

// A read transaction, aborted on destruction.
struct ReadTxn {
  MDB_txn* txn = nullptr;
  ~ReadTxn() {
    if (txn != nullptr) mdb_txn_abort(txn);
  }
};

class LmdbSnapshot : public Snapshot {
 public:
  explicit LmdbSnapshot(MDB_txn* txn) { txn_.txn = txn; }
  // A snapshot that could not be taken (no reader slot): every read through it fails with
  // `status`. REQUIRES: !status.is_ok().
  explicit LmdbSnapshot(Status status) : status_(std::move(status)) {
    TESSERA_REQUIRE(!status_.is_ok());
  }
  // nullptr for a failed snapshot.
  MDB_txn* txn() const { return txn_.txn; }
  // OK, or why the snapshot could not be taken.
  const Status& status() const { return status_; }
  std::mutex& mutex() const { return mutex_; }

 private:
  ReadTxn txn_;
  Status status_;
  mutable std::mutex mutex_;
};

class LmdbIterator : public Iterator {
 public:
  // Owns `own_txn` when it is set; otherwise reads through `snapshot`.
  LmdbIterator(MDB_dbi dbi, std::unique_ptr<ReadTxn> own_txn, const LmdbSnapshot* snapshot,
               std::optional<Bytes> upper_bound)
      : own_txn_(std::move(own_txn)), snapshot_(snapshot), upper_bound_(std::move(upper_bound)) {
    MDB_txn* txn = own_txn_ != nullptr ? own_txn_->txn : snapshot_->txn();
    int rc = mdb_cursor_open(txn, dbi, &cursor_);
    if (rc != 0) status_ = from_lmdb(rc, "mdb_cursor_open");
  }
  ~LmdbIterator() override {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }

  bool valid() const override { return valid_; }
  void seek(ByteView target) override {
    Bytes encoded = encode_key(target);
    MDB_val k = to_val(encoded);
    move(&k, MDB_SET_RANGE);
    // A long target lands among keys of its prefix in hash order: step to the first >= target.
    while (valid_ && key_ < target) move(nullptr, MDB_NEXT);
  }
  void seek_to_first() override { move(nullptr, MDB_FIRST); }
  void next() override {
    TESSERA_REQUIRE(valid_);
    move(nullptr, MDB_NEXT);
  }
  ByteView key() const override { return key_; }
  ByteView value() const override { return value_; }
  Status status() const override { return status_; }

 private:
  void move(MDB_val* start, MDB_cursor_op op) {
    valid_ = false;
    if (cursor_ == nullptr) return;
    std::unique_lock<std::mutex> lock;
    if (snapshot_ != nullptr) lock = std::unique_lock(snapshot_->mutex());
    MDB_val k = start != nullptr ? *start : MDB_val{0, nullptr};
    MDB_val v{0, nullptr};
    int rc = mdb_cursor_get(cursor_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return;
    if (rc != 0) {
      status_ = from_lmdb(rc, "mdb_cursor_get");
      return;
    }
    if (!decode_entry(to_view(k), to_view(v), &key_, &value_)) {
      status_ = Status::corruption("lmdb: stored entry is malformed");
      return;
    }
    valid_ = !upper_bound_ || key_ < ByteView(*upper_bound_);
  }

  std::unique_ptr<ReadTxn> own_txn_;
  const LmdbSnapshot* snapshot_;
  std::optional<Bytes> upper_bound_;
  MDB_cursor* cursor_ = nullptr;
  bool valid_ = false;
  ByteView key_;
  ByteView value_;
  Status status_;
};

class LmdbEngine : public Engine {
 public:
  LmdbEngine(MDB_env* env, MDB_dbi dbi, int64_t max_readers)
      : env_(env), dbi_(dbi), max_readers_(max_readers) {}
  ~LmdbEngine() override {
    group_sync_.stop();
    mdb_env_sync(env_, 1);
    mdb_env_close(env_);
  }

  Result<std::optional<Bytes>> get(const ReadOptions& options, ByteView key) override {
    // A read of the map may fault pages in from the file: LMDB cannot tell beforehand.
    if (options.memory_only) return Status::would_block("lmdb: a read may fault in a page");
    Bytes encoded = encode_key(key);
    MDB_val k = to_val(encoded);
    MDB_val v;
    int rc;
    if (options.snapshot != nullptr) {
      const auto* snap = static_cast<const LmdbSnapshot*>(options.snapshot);
      if (snap->txn() == nullptr) return snap->status();
      std::lock_guard lock(snap->mutex());
      rc = mdb_get(snap->txn(), dbi_, &k, &v);
      return decode_get(rc, key, k, v);
    }
    TESSERA_ASSIGN_OR_RETURN(auto txn, begin_read());
    rc = mdb_get(txn->txn, dbi_, &k, &v);
    return decode_get(rc, key, k, v);
  }

  Status write(const WriteOptions& options, const WriteBatch& batch) override {
    if (options.no_wait) return Status::would_block("lmdb: a commit fdatasyncs its pages");
    if (!batch.empty()) {
      MDB_txn* txn = nullptr;
      int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
      if (rc != 0) return from_lmdb(rc, "mdb_txn_begin");
      Bytes encoded_key, encoded_value;
      batch.for_each([&](const WriteBatch::Op& op) {
        if (rc != 0) return;
        encoded_key = encode_key(op.key);
        MDB_val k = to_val(encoded_key);
        if (op.kind == WriteBatch::OpKind::kPut) {
          encoded_value = encode_value(op.key, op.value);
          MDB_val v = to_val(encoded_value);
          rc = mdb_put(txn, dbi_, &k, &v, 0);
        } else {
          rc = mdb_del(txn, dbi_, &k, nullptr);
          if (rc == MDB_NOTFOUND) rc = 0;  // deleting a missing key is not an error
        }
      });
      if (rc != 0) {
        mdb_txn_abort(txn);
        return from_lmdb(rc, "write");
      }
      rc = mdb_txn_commit(txn);
      if (rc != 0) return from_lmdb(rc, "mdb_txn_commit");
    }
    return options.sync ? sync() : Status::ok();
  }

  std::unique_ptr<Iterator> new_iterator(const IteratorOptions& options) override {
    if (options.snapshot != nullptr) {
      const auto* snap = static_cast<const LmdbSnapshot*>(options.snapshot);
      if (snap->txn() == nullptr) return std::make_unique<FailedIterator>(snap->status());
      return std::make_unique<LmdbIterator>(dbi_, nullptr, snap, options.upper_bound);
    }
    auto txn = begin_read();
    if (!txn.is_ok()) return std::make_unique<FailedIterator>(txn.status());
    return std::make_unique<LmdbIterator>(dbi_, std::move(txn).value(), nullptr,
                                          options.upper_bound);
  }

  std::unique_ptr<Snapshot> snapshot() override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc == 0) return std::make_unique<LmdbSnapshot>(txn);
    // snapshot() has no error path: the reads through the snapshot report the failure. Out of
    // reader slots is load (Busy), not a bug, so it must not stop the process.
    std::string what = "lmdb snapshot";
    if (rc == MDB_READERS_FULL) {
      what += ": all " + std::to_string(max_readers_) +
              " reader slots (max_readers) are held by gets, iterators and snapshots";
    }
    return std::make_unique<LmdbSnapshot>(from_lmdb(rc, what));
  }

  Status sync() override {
    int rc = mdb_env_sync(env_, 1);
    return rc == 0 ? Status::ok() : from_lmdb(rc, "mdb_env_sync");
  }
  // Waiters share one mdb_env_sync (the meta page). The commit's own fdatasync of its pages
  // (MDB_NOMETASYNC, see the top) still runs inside write(): LMDB commits synchronously.
  void sync_async(SyncCallback done) override { group_sync_.submit(std::move(done)); }

  Result<uint64_t> approximate_size(ByteView start, ByteView end) override {
    // LMDB keeps no size estimates: count the range (exact, and linear in its size).
    IteratorOptions options;
    if (!end.empty()) options.upper_bound = Bytes(end);
    auto it = new_iterator(options);
    uint64_t bytes = 0;
    for (it->seek(start); it->valid(); it->next()) bytes += it->key().size() + it->value().size();
    TESSERA_RETURN_IF_ERROR(it->status());
    return bytes;
  }

  EngineStats stats() override {
    MDB_stat stat;
    MDB_envinfo info;
    EngineStats stats;
    if (mdb_env_stat(env_, &stat) == 0) {
      stats["entries"] = static_cast<double>(stat.ms_entries);
      stats["tree_depth"] = stat.ms_depth;
      stats["leaf_pages"] = static_cast<double>(stat.ms_leaf_pages);
      stats["page_bytes"] = stat.ms_psize;
    }
    if (mdb_env_info(env_, &info) == 0) {
      stats["map_bytes"] = static_cast<double>(info.me_mapsize);
      stats["used_pages"] = static_cast<double>(info.me_last_pgno + 1);
    }
    // 1 when the environment runs without fdatasync per commit (the unsafe_nosync config key).
    unsigned int flags = 0;
    if (mdb_env_get_flags(env_, &flags) == 0) stats["unsafe_nosync"] = (flags & MDB_NOSYNC) != 0;
    group_sync_.add_stats(&stats);
    return stats;
  }

 private:
  class FailedIterator : public Iterator {
   public:
    explicit FailedIterator(Status status) : status_(std::move(status)) {}
    bool valid() const override { return false; }
    void seek(ByteView) override {}
    void seek_to_first() override {}
    void next() override { TESSERA_REQUIRE(false, "next() on an invalid iterator"); }
    ByteView key() const override { return {}; }
    ByteView value() const override { return {}; }
    Status status() const override { return status_; }

   private:
    Status status_;
  };

  Result<std::unique_ptr<ReadTxn>> begin_read() {
    auto txn = std::make_unique<ReadTxn>();
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn->txn);
    if (rc != 0) return from_lmdb(rc, "mdb_txn_begin");
    return txn;
  }

  static Result<std::optional<Bytes>> decode_get(int rc, ByteView key, const MDB_val& k,
                                                 const MDB_val& v) {
    if (rc == MDB_NOTFOUND) return std::optional<Bytes>();
    if (rc != 0) return from_lmdb(rc, "mdb_get");
    ByteView stored_key, value;
    if (!decode_entry(to_view(k), to_view(v), &stored_key, &value)) {
      return Status::corruption("lmdb: stored entry is malformed");
    }
    if (stored_key != key) return std::optional<Bytes>();  // another long key, same hash
    return std::optional<Bytes>(Bytes(value));
  }

  MDB_env* env_;
  MDB_dbi dbi_;
  int64_t max_readers_;
  GroupSync group_sync_{[this] { return sync(); }};
};

constexpr std::array kConfigKeys = {
    ConfigKeySpec{"map_bytes_max",
                  "LMDB map size: the most the database may hold (default 16 GiB)"},
    ConfigKeySpec{"max_readers",
                  "read transactions open at once: gets, iterators, snapshots (default 1024)"},
    ConfigKeySpec{"unsafe_nosync",
                  "true: MDB_NOSYNC, no fdatasync per commit, and a machine crash may corrupt the "
                  "database (default false: MDB_NOMETASYNC, never corrupt)"},
};

Result<std::unique_ptr<Engine>> make_lmdb_engine(const PluginContext& context,
                                                 const ConfigSection& config) noexcept {
  if (context.data_dir.empty())
    return Status::invalid_argument("lmdb engine: needs a data directory");
  TESSERA_ASSIGN_OR_RETURN(int64_t map_bytes,
                           config.get_int("map_bytes_max", int64_t{16} << 30, 1 << 20));
  TESSERA_ASSIGN_OR_RETURN(int64_t readers, config.get_int("max_readers", 1024, 1, 1 << 20));
  TESSERA_ASSIGN_OR_RETURN(bool unsafe_nosync, config.get_bool("unsafe_nosync", false));
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return from_lmdb(rc, "mdb_env_create");
  auto fail = [&](int code, const char* what) {
    mdb_env_close(env);
    return from_lmdb(code, context.data_dir.string() + ": " + what);
  };
  if ((rc = mdb_env_set_mapsize(env, static_cast<size_t>(map_bytes))) != 0) {
    return fail(rc, "mdb_env_set_mapsize");
  }
  if ((rc = mdb_env_set_maxreaders(env, static_cast<unsigned>(readers))) != 0) {
    return fail(rc, "mdb_env_set_maxreaders");
  }
  // MDB_NOMETASYNC unless the config gives up crash safety: see "Durability" at the top.
  unsigned int sync_flag = unsafe_nosync ? MDB_NOSYNC : MDB_NOMETASYNC;
  rc = mdb_env_open(env, context.data_dir.c_str(), sync_flag | MDB_NOTLS, 0644);
  if (rc != 0) return fail(rc, "mdb_env_open");
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  if ((rc = mdb_txn_begin(env, nullptr, 0, &txn)) != 0) return fail(rc, "mdb_txn_begin");
  if ((rc = mdb_dbi_open(txn, nullptr, 0, &dbi)) != 0) {
    mdb_txn_abort(txn);
    return fail(rc, "mdb_dbi_open");
  }
  if ((rc = mdb_txn_commit(txn)) != 0) return fail(rc, "mdb_txn_commit");
  return std::unique_ptr<Engine>(std::make_unique<LmdbEngine>(env, dbi, readers));
}

}  // namespace

extern const PluginDescriptor lmdb_engine_descriptor;
const PluginDescriptor lmdb_engine_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kEngine,
    .name = "lmdb",
    .version = "1.0.0",
    .description = "LMDB (liblmdb) behind the engine interface",
    .config_keys = kConfigKeys.data(),
    .config_key_count = kConfigKeys.size(),
    .make_engine = make_lmdb_engine,
};

}  // namespace tessera

TESSERA_EXPORT_PLUGIN(tessera::lmdb_engine_descriptor)
