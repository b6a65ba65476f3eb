// LocalStore: the tables of one node, kept in its storage engine.
//
// A LocalStore turns the engine's single ordered keyspace into named tables of versioned values:
//  - Each table gets a 32-bit id below 0xFF000000, never reused (engine keys from byte 0xFF on
//    are a profile's own: the leader profile's ranges). Its keys are stored as fixed32_be(id) + key, so a
//    table is one contiguous engine range. Id 0 is the catalog (table names, the next id, drops
//    in progress), kept in the same engine so that it is exactly as durable as the data.
//  - Each key holds the versions that survive reconciliation by the conflict plugin (see
//    stored_value.h). A write reads the stored versions, reconciles them with the new one and
//    writes the survivors back, under a per-key lock stripe, so concurrent writers of one key
//    serialize while writers of different keys share the engine's group commit.
//  - Deletes are tombstones that remember when they were written (stored_value.h).
//    collect_tombstones() removes keys whose every version is a tombstone older than the grace
//    period; the grace period must outlast every way a replica can still learn of an older write
//    (hints, read repair, anti-entropy), or the deleted value comes back.
//  - A profile may keep one record of its own per table name (the AP profile's cluster state of
//    the table, table_states.h): written in the same atomic batch as the table's create or
//    drop, and kept after a drop, as the record of it.
//  - A profile may keep named records of the node (the AP profile's "this node owns its
//    ranges"), synced when set: put_node_record() / node_record().
//  - A profile may keep records of its own beside the tables, as exactly durable as the data:
//    catalog keys from extension_key("") on (after every table entry), written atomically with
//    a replica write (BatchExtension) and dropped with a table (add_drop_hook). The AP profile's
//    hints are such records (framework/dynamo/.../hint_store.h).
//  - Limits (key, value, batch and scan page sizes, and the bytes of all the versions one key
//    keeps) are checked here, before anything is written, with TooLarge naming the limit.
//  - Durability is awaited, not waited in (sync_writes): a data write returns once it is
//    applied, visible and not yet durable, having released its key locks. The caller answers
//    from when_durable(), which calls back once every write visible at the call is durable
//    (the engine's sync_async: concurrent writers share one fsync, and no thread waits in it).
//    Reads call it too, so that no answer shows a write that a crash could still undo. Table
//    changes (create, drop) are synced before they return.
//
// It is the replica-side store of both distributed profiles and the whole store of a single
// node. Thread-safety: every method may be called concurrently.
// Ownership: borrows the engine and the conflict plugin; both must outlive it.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "tessera/conflict.h"
#include "tessera/engine.h"
#include "tessera/mutation.h"
#include "tessera/node/writer_preferring_mutex.h"
#include "tessera/status.h"
#include "tessera/write_batch.h"

namespace tessera::node {

// What one item of an answer (a scan's KeyValue, a get's Value) costs in a Cap'n Proto message
// beyond its bytes, at most: the struct's pointers and the padding of its blobs.
inline constexpr size_t kRpcFramingBytesPerItem = 48;

struct StoreLimits {
  size_t key_bytes_max = 10 * 1024;
  size_t value_bytes_max = 1024 * 1024;
  size_t batch_bytes_max = 16 * 1024 * 1024;
  size_t batch_ops_max = 10'000;
  uint32_t scan_items_max = 10'000;
  size_t scan_bytes_max = 4 * 1024 * 1024;
  // Entries (live or tombstones) one scan page may step over before it returns early.
  uint32_t scan_entries_examined_max = 100'000;
  // Bytes one key's versions (every sibling and tombstone that survived reconciliation) may
  // take in an answer: for each, the key (scan items repeat it), the value, the version twice
  // (the context holds it too) and kRpcFramingBytesPerItem. A write that would pass it gets
  // TooLarge: with vector clocks, blind writes would otherwise pile up siblings until no get
  // answer or scan page could carry the key, and it could be neither read nor resolved.
  size_t versions_bytes_max = 40 * 1024 * 1024;
};

struct StoreOptions {
  NodeId node;
  StoreLimits limits;
  bool sync_writes = true;  // fsync (group commit) before a write returns
  // Milliseconds since the epoch, for tombstone ages. Injected so tests control time.
  std::function<uint64_t()> now_ms;
};

struct TombstoneSweep {
  size_t examined = 0;
  size_t collected = 0;
  size_t unreadable = 0;  // records that do not decode (Corruption); skipped and left alone
  Bytes next_cursor;  // empty when the sweep reached the end of the keyspace
};

struct StoreScanPage {
  struct Item {
    Bytes key;
    Bytes value;
    Bytes version;
  };
  std::vector<Item> items;
  Bytes next_page_token;  // empty when the range is exhausted
};

// A page of keys with every version each holds, tombstones included (the replica side of a
// scan across the ring).
struct StoreVersionsPage {
  struct Item {
    Bytes key;
    std::vector<VersionedValue> versions;
  };
  std::vector<Item> items;
  Bytes next_page_token;  // empty when the range is exhausted
};

struct StoreGetResult {
  std::vector<VersionedValue> values;  // live siblings; empty when absent or deleted
  Bytes context;                       // versions to pass back to supersede what was read
};

// TooLarge naming `batch_ops_max` when a batch of `ops` operations is over it.
Status check_batch_ops(size_t ops, size_t batch_ops_max);

// Whether a call may wait: kMay on a worker thread; kNever for an event loop's first attempt,
// which answers WouldBlock, having changed nothing, where it would wait for a lock held
// elsewhere or for the disk (the engine's memory_only and no_wait), so that the loop hands it
// to a worker instead. Most calls on a warm store never wait, and skip the hop.
enum class Waiting { kMay, kNever };

// Operations a caller adds to the atomic batch of one replica write (merge_versions), e.g. a
// hint beside the copy. extend() runs with the written key locked, after the checks, before the
// batch is written; an error from it fails the write and nothing is written.
class BatchExtension {
 public:
  virtual ~BatchExtension() = default;
  virtual Status extend(std::span<const VersionedValue> versions, WriteBatch* batch) = 0;
};

// Called when `table` is dropped, under the catalog lock held exclusively, to add to the drop's
// atomic batch the deletion of records that name the table.
using TableDropHook = std::function<Status(std::string_view table, WriteBatch* batch)>;

class LocalStore {
 public:
  // Reads the catalog and finishes any drop that a crash interrupted.
  // REQUIRES: options.now_ms is set.
  static Result<std::unique_ptr<LocalStore>> open(Engine* engine, Conflict* conflict,
                                                  StoreOptions options);
  // Waits for the engine to call back every sync_async this store asked for (their callbacks
  // use it); the engine, alive until after, runs them.
  ~LocalStore();

  std::vector<std::string> list_tables() const;
  // Whether `table` exists, or nullopt when the catalog is being changed: never waits, so an
  // event loop may ask.
  std::optional<bool> has_table_now(std::string_view table) const;
  // Whether `table` exists, waiting for a catalog change in progress.
  bool has_table(std::string_view table) const;
  // InvalidArgument for a bad name, TableExists when taken. A non-empty `record` becomes the
  // table's record (above) in the same atomic batch.
  Status create_table(std::string_view name, ByteView record = {});
  // NoSuchTable when absent. Deletes the data in bounded batches. A non-empty `record` becomes
  // the table's record in the batch that drops it.
  Status drop_table(std::string_view name, ByteView record = {});
  // Sets `name`'s record alone (synced), whether the table exists or not. InvalidArgument for
  // a bad name or an empty record.
  Status put_table_record(std::string_view name, ByteView record);
  // Every table record, by name.
  Result<std::map<std::string, Bytes>> table_records() const;
  // A profile's record of this node under `name` (the AP profile's "this node owns its
  // ranges"): set synced, read back after any restart; nullopt when never set.
  // InvalidArgument for an empty name.
  Status put_node_record(std::string_view name, ByteView value);
  Result<std::optional<Bytes>> node_record(std::string_view name) const;

  // Returns the version made. `context` is the client's causal context (may be empty).
  Result<Bytes> put(std::string_view table, ByteView key, ByteView value, ByteView context,
                    Waiting waiting = Waiting::kMay);
  Status remove(std::string_view table, ByteView key, ByteView context,
                Waiting waiting = Waiting::kMay);
  Result<StoreGetResult> get(std::string_view table, ByteView key,
                             Waiting waiting = Waiting::kMay) const;
  // Live keys in [start, end) (end empty = to the table's end), from `page_token` on if given.
  Result<StoreScanPage> scan(std::string_view table, ByteView start, ByteView end,
                             uint32_t limit, ByteView page_token) const;
  // As scan(), one item per key with all its versions, tombstones included; `limit` counts
  // keys.
  Result<StoreVersionsPage> scan_versions(std::string_view table, ByteView start, ByteView end,
                                          uint32_t limit, ByteView page_token) const;
  // All mutations get one version and land in one atomic engine batch.
  Status write(std::string_view table, std::span<const Mutation> mutations,
               Waiting waiting = Waiting::kMay);

  // Calls `done` once every write visible now (applied by the methods here) is durable: at
  // once when none is waiting for a sync (or sync_writes is off), else from the engine's sync
  // thread after the sync they share. `done` must neither block nor throw.
  void when_durable(SyncCallback done);
  // Whether when_durable() would call back at once: no write visible now awaits a sync.
  bool durable_now() const;

  // The replica side of a distributed write: a coordinator's write, a read repair, or a hint
  // handed over. Reconciles `versions` (made by a coordinator, live or tombstones) with what the
  // key holds and stores the survivors, durably when sync_writes is set. InvalidArgument for
  // bytes the conflict plugin does not take as versions, or more than kVersionsMerged of them;
  // TooLarge as put.
  // `extra`, when given, adds its own operations to the same atomic batch.
  Status merge_versions(std::string_view table, ByteView key,
                        std::vector<VersionedValue> versions, BatchExtension* extra = nullptr,
                        Waiting waiting = Waiting::kMay);
  // Every version `key` holds, tombstones included; empty when it holds none.
  Result<std::vector<VersionedValue>> read_versions(std::string_view table, ByteView key,
                                                    Waiting waiting = Waiting::kMay) const;
  // A new version for a write coordinated by this node that supersedes `context` (what a get
  // returned; empty for a blind write). InvalidArgument for a malformed context.
  Result<Bytes> new_version(ByteView context);
  // The tombstone of a delete coordinated by this node with `version`, stamped now.
  VersionedValue new_tombstone(Bytes version) const;

  // The most versions one merge_versions() call may carry.
  static constexpr size_t kVersionsMerged = 64;

  // Examines up to `keys_max` keys from `cursor` (empty = the start) and deletes those whose
  // versions are all tombstones written at least `grace_ms` ago. Resumable: pass next_cursor.
  // A record that does not decode is counted in `unreadable` and skipped, not an error.
  Result<TombstoneSweep> collect_tombstones(ByteView cursor, size_t keys_max, uint64_t grace_ms);

  // Extension records (see the top): the catalog key of one, and the end of their range.
  static Bytes extension_key(ByteView rest);
  static Bytes extension_end();
  // Reconciles the stored versions of the engine key `key` with `incoming` and adds the
  // survivors to `batch`, refusing (TooLarge) more than versions_bytes_max. For extension
  // records. REQUIRES: the caller serializes writers of `key`.
  Status merge_record(ByteView key, std::vector<VersionedValue> incoming, WriteBatch* batch,
                      Waiting waiting = Waiting::kMay) const;
  // Every drop from now on calls `hook`. REQUIRES: called before the store serves requests.
  void add_drop_hook(TableDropHook hook);
  Engine* engine() const { return engine_; }

  const StoreLimits& limits() const { return options_.limits; }
  // TooLarge naming key_bytes_max / value_bytes_max when a key or value is over its limit.
  Status check_key(ByteView key) const;
  Status check_value(size_t value_bytes) const;
  // TooLarge naming `batch_ops_max` when a batch of `ops` operations is over it. Lets a caller
  // refuse a batch before it copies the operations (write() checks it again).
  Status check_batch_ops(size_t ops) const;

 private:
  LocalStore(Engine* engine, Conflict* conflict, StoreOptions options);

  Status load_catalog();
  // What one key added to a page: items (scan_items_max counts them) and bytes
  // (scan_bytes_max).
  struct VisitCost {
    size_t items = 0;
    size_t bytes = 0;
  };
  using RecordVisitor =
      std::function<VisitCost(ByteView key, std::vector<VersionedValue> versions)>;
  // The walk both scans share: the checks, the bounds of one page, and the page token (the key
  // the next page starts at; empty at the end). Calls `visit` for each key in order.
  Result<Bytes> walk(std::string_view table, ByteView start, ByteView end, uint32_t limit,
                     ByteView page_token, const RecordVisitor& visit) const;
  Status finish_drop(uint32_t table_id);
  Result<uint32_t> table_id(std::string_view table) const;
  Result<Bytes> apply(uint32_t id, std::span<const Mutation> mutations, ByteView context,
                      Waiting waiting);
  // An unsynced data write, counted for when_durable().
  Status write_data(const WriteBatch& batch, Waiting waiting = Waiting::kMay);
  // Logs once when writes start failing for a full disk (ENOSPC, EDQUOT in the engine's
  // message), and once when they succeed again; returns `status`.
  Status note_disk_space(Status status);
  // The catalog lock, shared; with kNever only if it is free now (else WouldBlock).
  Result<std::shared_lock<WriterPreferringMutex>> lock_catalog(Waiting waiting) const;

  static constexpr size_t kLockStripes = 1024;
  std::mutex& stripe(ByteView engine_key) const;

  Engine* const engine_;
  Conflict* const conflict_;
  const StoreOptions options_;

  // What when_durable() knows: data writes started, those running, and the count of starts
  // at the last moment none was running (every write up to it had returned, so a sync asked
  // for after it covers them all). durable_ is the quiescent count a finished sync covered.
  mutable std::mutex durability_mutex_;
  uint64_t writes_started_ = 0;    // (durability_mutex_)
  uint64_t writes_running_ = 0;    // (durability_mutex_)
  uint64_t writes_quiescent_ = 0;  // (durability_mutex_)
  uint64_t writes_durable_ = 0;    // (durability_mutex_)
  uint64_t syncs_asked_ = 0;       // sync_async calls not yet called back (durability_mutex_)
  std::condition_variable syncs_answered_;

  std::atomic<bool> disk_full_logged_{false};
  mutable WriterPreferringMutex catalog_mutex_;  // guards tables_ and catalog writes
  std::map<std::string, uint32_t, std::less<>> tables_;
  std::vector<TableDropHook> drop_hooks_;  // (catalog_mutex_)
  mutable std::array<std::mutex, kLockStripes> stripes_;
};

}  // namespace tessera::node
