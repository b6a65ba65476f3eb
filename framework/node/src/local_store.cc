#include "tessera/node/local_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "tessera/coding.h"
#include "tessera/node/stored_value.h"

namespace tessera::node {
namespace {

constexpr uint32_t kCatalogTableId = 0;
constexpr char kCatalogTable = 't';   // 't' name -> fixed32_be(id)
constexpr char kCatalogNextId = 'n';  // 'n' -> fixed32_be(next id)
constexpr char kCatalogDrop = 'd';    // 'd' fixed32_be(id) -> "": drop in progress
constexpr char kCatalogRecord = 'm';  // 'm' name -> a profile's record of the table
constexpr char kCatalogNodeRecord = 'p';  // 'p' name -> a profile's record of the node
// 'z' ...: extension records, a profile's own (the AP profile's hints). Last in the catalog, so
// reading the tables stops before them.
constexpr char kCatalogExtension = 'z';
// Engine keys from fixed32_be(kTableIdEnd) on are not the store's: a profile keeps its own state
// there (the leader profile's ranges start with byte 0xFF).
constexpr uint32_t kTableIdEnd = 0xFF000000;
constexpr size_t kTableNameBytesMax = 128;
constexpr size_t kDropBatchKeys = 1000;
constexpr size_t kTablePrefixBytes = 4;  // fixed32_be(table id) in front of every engine key

Bytes fixed32(uint32_t value) {
  Bytes out;
  put_fixed32_be(&out, value);
  return out;
}

Bytes table_prefix(uint32_t id) { return fixed32(id); }

Bytes engine_key(uint32_t id, ByteView key) {
  Bytes out = table_prefix(id);
  out.append(key);
  return out;
}

Bytes catalog_key(char kind, ByteView rest) {
  Bytes out = table_prefix(kCatalogTableId);
  out.push_back(kind);
  out.append(rest);
  return out;
}

Status check_table_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kTableNameBytesMax &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                     c == '.';
            });
  if (ok) return Status::ok();
  return Status::invalid_argument("table name \"" + std::string(name.substr(0, 64)) +
                                  "\" must be 1 to 128 characters of [A-Za-z0-9_.-]");
}

// TooLarge: "<subject> is over the limit of <limit><unit> (<config_key>)".
Status over_limit(const std::string& subject, size_t limit, std::string_view unit,
                  std::string_view config_key) {
  return Status::too_large(subject + " is over the limit of " + std::to_string(limit) +
                           std::string(unit) + " (" + std::string(config_key) + ")");
}

}  // namespace

LocalStore::LocalStore(Engine* engine, Conflict* conflict, StoreOptions options)
    : engine_(engine), conflict_(conflict), options_(std::move(options)) {}

LocalStore::~LocalStore() {
  std::unique_lock lock(durability_mutex_);
  syncs_answered_.wait(lock, [this] { return syncs_asked_ == 0; });
}

Result<std::unique_ptr<LocalStore>> LocalStore::open(Engine* engine, Conflict* conflict,
                                                     StoreOptions options) {
  TESSERA_REQUIRE(engine != nullptr && conflict != nullptr && options.now_ms != nullptr);
  std::unique_ptr<LocalStore> store(new LocalStore(engine, conflict, std::move(options)));
  TESSERA_RETURN_IF_ERROR(store->load_catalog());
  return store;
}

Status LocalStore::load_catalog() {
  std::vector<uint32_t> pending_drops;
  auto it = engine_->new_iterator({.upper_bound = table_prefix(kCatalogTableId + 1)});
  for (it->seek(table_prefix(kCatalogTableId)); it->valid(); it->next()) {
    ByteView key = it->key().substr(kTablePrefixBytes);
    ByteView value = it->value();
    uint32_t id = 0;
    if (key.empty()) return Status::corruption("catalog: empty key");
    char kind = key[0];
    key.remove_prefix(1);
    if (kind == kCatalogExtension) break;  // only extension records follow
    if (kind == kCatalogTable) {
      if (!get_fixed32_be(&value, &id)) return Status::corruption("catalog: bad table id");
      tables_.emplace(std::string(key), id);
    } else if (kind == kCatalogDrop) {
      if (!get_fixed32_be(&key, &id)) return Status::corruption("catalog: bad drop entry");
      pending_drops.push_back(id);
    }
  }
  TESSERA_RETURN_IF_ERROR(it->status());
  it.reset();
  for (uint32_t id : pending_drops) TESSERA_RETURN_IF_ERROR(finish_drop(id));
  return Status::ok();
}

std::vector<std::string> LocalStore::list_tables() const {
  std::shared_lock lock(catalog_mutex_);
  std::vector<std::string> names;
  for (const auto& [name, id] : tables_) names.push_back(name);
  return names;
}

Status LocalStore::create_table(std::string_view name, ByteView record) {
  TESSERA_RETURN_IF_ERROR(check_table_name(name));
  std::unique_lock lock(catalog_mutex_);
  if (tables_.contains(name)) {
    return Status::table_exists("table \"" + std::string(name) + "\" exists");
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> next,
                           engine_->get({}, catalog_key(kCatalogNextId, "")));
  uint32_t id = kCatalogTableId + 1;
  if (next) {
    ByteView in = *next;
    if (!get_fixed32_be(&in, &id)) return Status::corruption("catalog: bad next table id");
  }
  if (id >= kTableIdEnd) return Status::invalid_argument("table ids are exhausted");
  WriteBatch batch;
  batch.put(catalog_key(kCatalogTable, name), fixed32(id));
  batch.put(catalog_key(kCatalogNextId, ""), fixed32(id + 1));
  if (!record.empty()) batch.put(catalog_key(kCatalogRecord, name), record);
  TESSERA_RETURN_IF_ERROR(engine_->write({.sync = true}, batch));
  tables_.emplace(std::string(name), id);
  return Status::ok();
}

Status LocalStore::drop_table(std::string_view name, ByteView record) {
  uint32_t id = 0;
  {
    std::unique_lock lock(catalog_mutex_);
    auto it = tables_.find(name);
    if (it == tables_.end()) {
      return Status::no_such_table("table \"" + std::string(name) + "\" does not exist");
    }
    id = it->second;
    // The drop marker makes the data deletion below resumable after a crash.
    WriteBatch batch;
    batch.del(catalog_key(kCatalogTable, name));
    batch.put(catalog_key(kCatalogDrop, fixed32(id)), "");
    if (!record.empty()) batch.put(catalog_key(kCatalogRecord, name), record);
    // Records that name the table (hints) would land in a table created later under the same
    // name. Still under the lock, so no such table exists yet.
    for (const TableDropHook& hook : drop_hooks_) TESSERA_RETURN_IF_ERROR(hook(name, &batch));
    TESSERA_RETURN_IF_ERROR(engine_->write({.sync = true}, batch));
    tables_.erase(it);
  }
  // No writer can reach `id` any more: writers resolve the id under the catalog lock.
  return finish_drop(id);
}

Status LocalStore::put_table_record(std::string_view name, ByteView record) {
  TESSERA_RETURN_IF_ERROR(check_table_name(name));
  if (record.empty()) return Status::invalid_argument("a table record may not be empty");
  std::unique_lock lock(catalog_mutex_);
  return engine_->put({.sync = true}, catalog_key(kCatalogRecord, name), record);
}

Result<std::map<std::string, Bytes>> LocalStore::table_records() const {
  std::shared_lock lock(catalog_mutex_);
  std::map<std::string, Bytes> records;
  const Bytes first = catalog_key(kCatalogRecord, "");
  auto it = engine_->new_iterator({.upper_bound = catalog_key(static_cast<char>(kCatalogRecord + 1), "")});
  for (it->seek(first); it->valid(); it->next()) {
    records.emplace(std::string(it->key().substr(first.size())), Bytes(it->value()));
  }
  TESSERA_RETURN_IF_ERROR(it->status());
  return records;
}

Status LocalStore::put_node_record(std::string_view name, ByteView value) {
  if (name.empty()) return Status::invalid_argument("a node record needs a name");
  return engine_->put({.sync = true}, catalog_key(kCatalogNodeRecord, name), value);
}

Result<std::optional<Bytes>> LocalStore::node_record(std::string_view name) const {
  return engine_->get({}, catalog_key(kCatalogNodeRecord, name));
}

Bytes LocalStore::extension_key(ByteView rest) { return catalog_key(kCatalogExtension, rest); }

Bytes LocalStore::extension_end() { return table_prefix(kCatalogTableId + 1); }

void LocalStore::add_drop_hook(TableDropHook hook) {
  std::unique_lock lock(catalog_mutex_);
  drop_hooks_.push_back(std::move(hook));
}

std::optional<bool> LocalStore::has_table_now(std::string_view table) const {
  std::shared_lock lock(catalog_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return std::nullopt;
  return tables_.contains(table);
}

bool LocalStore::has_table(std::string_view table) const {
  std::shared_lock lock(catalog_mutex_);
  return tables_.contains(table);
}

Status LocalStore::finish_drop(uint32_t id) {
  while (true) {
    WriteBatch batch;
    auto it = engine_->new_iterator({.upper_bound = table_prefix(id + 1)});
    for (it->seek(table_prefix(id)); it->valid() && batch.count() < kDropBatchKeys; it->next()) {
      batch.del(it->key());
    }
    TESSERA_RETURN_IF_ERROR(it->status());
    it.reset();
    if (batch.empty()) break;
    TESSERA_RETURN_IF_ERROR(engine_->write({}, batch));
  }
  // The deletions must be durable before the marker goes: a crash that lost some of them after
  // the marker was gone would leave data that nothing ever deletes (the id is never reused).
  TESSERA_RETURN_IF_ERROR(engine_->sync());
  return engine_->del({.sync = true}, catalog_key(kCatalogDrop, fixed32(id)));
}

Result<uint32_t> LocalStore::table_id(std::string_view table) const {
  auto it = tables_.find(table);
  if (it == tables_.end()) {
    return Status::no_such_table("table \"" + std::string(table) + "\" does not exist");
  }
  return it->second;
}

Status LocalStore::check_key(ByteView key) const {
  if (key.size() <= options_.limits.key_bytes_max) return Status::ok();
  return over_limit("key of " + std::to_string(key.size()) + " bytes",
                    options_.limits.key_bytes_max, " bytes", "key_bytes_max");
}

Status LocalStore::check_value(size_t value_bytes) const {
  if (value_bytes <= options_.limits.value_bytes_max) return Status::ok();
  return over_limit("value of " + std::to_string(value_bytes) + " bytes",
                    options_.limits.value_bytes_max, " bytes", "value_bytes_max");
}

std::mutex& LocalStore::stripe(ByteView engine_key) const {
  return stripes_[std::hash<ByteView>{}(engine_key) % kLockStripes];
}

Result<std::shared_lock<WriterPreferringMutex>> LocalStore::lock_catalog(Waiting waiting) const {
  if (waiting == Waiting::kMay) return std::shared_lock(catalog_mutex_);
  std::shared_lock lock(catalog_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return Status::would_block("the catalog is being changed");
  return lock;
}

Status LocalStore::merge_record(ByteView key, std::vector<VersionedValue> incoming,
                                WriteBatch* batch, Waiting waiting) const {
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> stored,
                           engine_->get({.memory_only = waiting == Waiting::kNever}, key));
  std::vector<VersionedValue> versions;
  if (stored) {
    TESSERA_ASSIGN_OR_RETURN(versions, decode_record(*stored));
  }
  for (VersionedValue& v : incoming) versions.push_back(std::move(v));
  TESSERA_ASSIGN_OR_RETURN(std::vector<VersionedValue> survivors,
                           conflict_->reconcile(std::move(versions)));
  const size_t key_bytes = key.size() - kTablePrefixBytes;
  size_t answer_bytes = 0;
  for (const VersionedValue& version : survivors) {
    answer_bytes += key_bytes + version.value.size() + 2 * version.version.size() +
                    kRpcFramingBytesPerItem;
  }
  if (answer_bytes > options_.limits.versions_bytes_max) {
    return Status::too_large(
        "the key of " + std::to_string(key_bytes) + " bytes would keep " +
        std::to_string(survivors.size()) + " versions taking " + std::to_string(answer_bytes) +
        " bytes in an answer, over the limit of " +
        std::to_string(options_.limits.versions_bytes_max) +
        " bytes for one key; resolve its siblings by writing with the context a get returns");
  }
  batch->put(key, encode_record(survivors));
  return Status::ok();
}

Result<Bytes> LocalStore::apply(uint32_t id, std::span<const Mutation> mutations,
                                ByteView context, Waiting waiting) {
  TESSERA_ASSIGN_OR_RETURN(Bytes version, new_version(context));

  std::vector<Bytes> keys;
  std::vector<std::mutex*> locks;
  for (const Mutation& m : mutations) {
    keys.push_back(engine_key(id, m.key));
    locks.push_back(&stripe(keys.back()));
  }
  // One lock order for every writer, so that batches never deadlock.
  std::sort(locks.begin(), locks.end());
  locks.erase(std::unique(locks.begin(), locks.end()), locks.end());
  // Held as RAII: an exception (std::bad_alloc) must not leave a stripe locked for good.
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(locks.size());
  for (std::mutex* lock : locks) {
    if (waiting == Waiting::kMay) {
      held.emplace_back(*lock);
    } else if (!held.emplace_back(*lock, std::try_to_lock).owns_lock()) {
      return Status::would_block("a writer of the same keys holds their lock");
    }
  }

  WriteBatch batch;
  for (size_t i = 0; i < mutations.size(); ++i) {
    const Mutation& m = mutations[i];
    std::vector<VersionedValue> incoming;
    incoming.push_back(m.value ? VersionedValue{version, false, *m.value}
                               : new_tombstone(version));
    TESSERA_RETURN_IF_ERROR(merge_record(keys[i], std::move(incoming), &batch, waiting));
  }
  TESSERA_RETURN_IF_ERROR(write_data(batch, waiting));
  return version;
}

Status LocalStore::write_data(const WriteBatch& batch, Waiting waiting) {
  const WriteOptions options{.no_wait = waiting == Waiting::kNever};
  if (!options_.sync_writes) return note_disk_space(engine_->write(options, batch));
  {
    std::lock_guard lock(durability_mutex_);
    ++writes_started_;
    ++writes_running_;
  }
  Status status = engine_->write(options, batch);
  std::lock_guard lock(durability_mutex_);
  if (--writes_running_ == 0) writes_quiescent_ = writes_started_;
  return note_disk_space(std::move(status));
}

Status LocalStore::note_disk_space(Status status) {
  const std::string& message = status.message();
  const bool full = status.code() == StatusCode::kIOError &&
                    (message.find(std::strerror(ENOSPC)) != std::string::npos ||
                     message.find(std::strerror(EDQUOT)) != std::string::npos);
  if (full && !disk_full_logged_.exchange(true)) {
    spdlog::warn("node {}: the disk is full: writes are refused until space is freed; reads go "
                 "on ({})",
                 options_.node, message);
  } else if (status.is_ok() && disk_full_logged_.load(std::memory_order_relaxed) &&
             disk_full_logged_.exchange(false)) {
    spdlog::info("node {}: writes go on: the disk has room again", options_.node);
  }
  return status;
}

bool LocalStore::durable_now() const {
  if (!options_.sync_writes) return true;
  std::lock_guard lock(durability_mutex_);
  return writes_durable_ >= writes_started_;
}

void LocalStore::when_durable(SyncCallback done) {
  if (!options_.sync_writes) return done(Status::ok());
  uint64_t quiescent = 0;
  {
    std::lock_guard lock(durability_mutex_);
    if (writes_durable_ >= writes_started_) {
      // Every write that began has returned and a finished sync covered it.
      return done(Status::ok());
    }
    quiescent = writes_quiescent_;
    ++syncs_asked_;
  }
  // The sync covers every write visible now (engine.h), which is all `done` waits for; it also
  // covers every write up to `quiescent`, which lets later callers skip theirs.
  engine_->sync_async([this, quiescent, done = std::move(done)](Status status) {
    {
      std::lock_guard lock(durability_mutex_);
      if (status.is_ok()) writes_durable_ = std::max(writes_durable_, quiescent);
      --syncs_asked_;
      syncs_answered_.notify_all();
    }
    // `this` may be gone from here on: `done` must not need the store.
    done(std::move(status));
  });
}

Status LocalStore::merge_versions(std::string_view table, ByteView key,
                                  std::vector<VersionedValue> versions, BatchExtension* extra,
                                  Waiting waiting) {
  TESSERA_ASSIGN_OR_RETURN(auto lock, lock_catalog(waiting));
  TESSERA_ASSIGN_OR_RETURN(uint32_t id, table_id(table));
  TESSERA_RETURN_IF_ERROR(check_key(key));
  if (versions.empty()) return Status::ok();
  if (versions.size() > kVersionsMerged) {
    return Status::invalid_argument("a replica write of " + std::to_string(versions.size()) +
                                    " versions is over the " + std::to_string(kVersionsMerged) +
                                    " one key may receive at once");
  }
  for (const VersionedValue& v : versions) {
    if (!v.tombstone) {
      TESSERA_RETURN_IF_ERROR(check_value(v.value.size()));
    } else if (v.value.size() != sizeof(uint64_t)) {
      // Its value is when it was written; without it the sweep would collect it at once.
      return Status::invalid_argument("a tombstone carries its 8-byte write time, not " +
                                      std::to_string(v.value.size()) + " bytes");
    }
  }
  const Bytes engine_key_bytes = engine_key(id, key);
  WriteBatch batch;
  std::unique_lock held(stripe(engine_key_bytes), std::defer_lock);
  if (waiting == Waiting::kMay) {
    held.lock();
  } else if (!held.try_lock()) {
    return Status::would_block("a writer of the same key holds its lock");
  }
  if (extra != nullptr) TESSERA_RETURN_IF_ERROR(extra->extend(versions, &batch));
  TESSERA_RETURN_IF_ERROR(merge_record(engine_key_bytes, std::move(versions), &batch, waiting));
  return write_data(batch, waiting);
}

Result<std::vector<VersionedValue>> LocalStore::read_versions(std::string_view table,
                                                               ByteView key,
                                                               Waiting waiting) const {
  uint32_t id = 0;
  {
    TESSERA_ASSIGN_OR_RETURN(auto lock, lock_catalog(waiting));
    TESSERA_ASSIGN_OR_RETURN(id, table_id(table));
  }
  TESSERA_RETURN_IF_ERROR(check_key(key));
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> stored,
                           engine_->get({.memory_only = waiting == Waiting::kNever},
                                        engine_key(id, key)));
  if (!stored) return std::vector<VersionedValue>{};
  return decode_record(*stored);
}

Result<Bytes> LocalStore::new_version(ByteView context) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<Bytes> seen, decode_context(context));
  return conflict_->new_version(options_.node, seen);
}

VersionedValue LocalStore::new_tombstone(Bytes version) const {
  return make_tombstone(std::move(version), options_.now_ms());
}

Result<Bytes> LocalStore::put(std::string_view table, ByteView key, ByteView value,
                              ByteView context, Waiting waiting) {
  TESSERA_ASSIGN_OR_RETURN(auto lock, lock_catalog(waiting));
  TESSERA_ASSIGN_OR_RETURN(uint32_t id, table_id(table));
  TESSERA_RETURN_IF_ERROR(check_key(key));
  TESSERA_RETURN_IF_ERROR(check_value(value.size()));
  Mutation mutation{Bytes(key), Bytes(value)};
  return apply(id, std::span<const Mutation>(&mutation, 1), context, waiting);
}

Status LocalStore::remove(std::string_view table, ByteView key, ByteView context,
                          Waiting waiting) {
  TESSERA_ASSIGN_OR_RETURN(auto lock, lock_catalog(waiting));
  TESSERA_ASSIGN_OR_RETURN(uint32_t id, table_id(table));
  TESSERA_RETURN_IF_ERROR(check_key(key));
  Mutation mutation{Bytes(key), std::nullopt};
  return apply(id, std::span<const Mutation>(&mutation, 1), context, waiting).status();
}

Status LocalStore::write(std::string_view table, std::span<const Mutation> mutations,
                         Waiting waiting) {
  TESSERA_ASSIGN_OR_RETURN(auto lock, lock_catalog(waiting));
  TESSERA_ASSIGN_OR_RETURN(uint32_t id, table_id(table));
  if (mutations.empty()) return Status::ok();
  TESSERA_RETURN_IF_ERROR(check_batch_ops(mutations.size()));
  size_t bytes = 0;
  for (const Mutation& m : mutations) {
    TESSERA_RETURN_IF_ERROR(check_key(m.key));
    size_t value_bytes = m.value ? m.value->size() : 0;
    TESSERA_RETURN_IF_ERROR(check_value(value_bytes));
    bytes += m.key.size() + value_bytes;
  }
  if (bytes > options_.limits.batch_bytes_max) {
    return over_limit("batch of " + std::to_string(bytes) + " bytes",
                      options_.limits.batch_bytes_max, " bytes", "batch_bytes_max");
  }
  return apply(id, mutations, {}, waiting).status();
}

Status check_batch_ops(size_t ops, size_t batch_ops_max) {
  if (ops <= batch_ops_max) return Status::ok();
  return over_limit("batch of " + std::to_string(ops) + " operations", batch_ops_max, "",
                    "batch_ops_max");
}

Status LocalStore::check_batch_ops(size_t ops) const {
  return node::check_batch_ops(ops, options_.limits.batch_ops_max);
}

Result<StoreGetResult> LocalStore::get(std::string_view table, ByteView key,
                                       Waiting waiting) const {
  uint32_t id = 0;
  {
    TESSERA_ASSIGN_OR_RETURN(auto lock, lock_catalog(waiting));
    TESSERA_ASSIGN_OR_RETURN(id, table_id(table));
  }
  TESSERA_RETURN_IF_ERROR(check_key(key));
  TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> stored,
                           engine_->get({.memory_only = waiting == Waiting::kNever},
                                        engine_key(id, key)));
  StoreGetResult result;
  if (!stored) return result;
  TESSERA_ASSIGN_OR_RETURN(std::vector<VersionedValue> siblings, decode_record(*stored));
  result.context = encode_context(siblings);
  for (VersionedValue& sibling : siblings) {
    if (!sibling.tombstone) result.values.push_back(std::move(sibling));
  }
  return result;
}

Result<Bytes> LocalStore::walk(std::string_view table, ByteView start, ByteView end,
                              uint32_t limit, ByteView page_token,
                              const RecordVisitor& visit) const {
  uint32_t id = 0;
  {
    std::shared_lock lock(catalog_mutex_);
    TESSERA_ASSIGN_OR_RETURN(id, table_id(table));
  }
  if (!end.empty() && end < start) {
    return Status::invalid_argument("scan end is before scan start");
  }
  ByteView from = start;
  if (!page_token.empty()) {
    if (page_token < start || (!end.empty() && page_token >= end)) {
      return Status::invalid_argument("page token does not belong to this scan's range");
    }
    from = page_token;
  }
  const uint32_t items_max = limit == 0 ? options_.limits.scan_items_max
                                        : std::min(limit, options_.limits.scan_items_max);
  size_t items = 0;
  size_t bytes = 0;
  uint32_t examined = 0;
  IteratorOptions options;
  options.upper_bound = end.empty() ? table_prefix(id + 1) : engine_key(id, end);
  auto it = engine_->new_iterator(options);
  for (it->seek(engine_key(id, from)); it->valid(); it->next()) {
    ByteView key = it->key().substr(kTablePrefixBytes);
    bool page_full = items >= items_max || bytes >= options_.limits.scan_bytes_max ||
                     examined >= options_.limits.scan_entries_examined_max;
    if (page_full) return Bytes(key);
    ++examined;
    TESSERA_ASSIGN_OR_RETURN(std::vector<VersionedValue> versions, decode_record(it->value()));
    const VisitCost cost = visit(key, std::move(versions));
    items += cost.items;
    bytes += cost.bytes;
  }
  TESSERA_RETURN_IF_ERROR(it->status());
  return Bytes();
}

Result<StoreScanPage> LocalStore::scan(std::string_view table, ByteView start, ByteView end,
                                       uint32_t limit, ByteView page_token) const {
  StoreScanPage page;
  auto live_siblings = [&page](ByteView key, std::vector<VersionedValue> siblings) {
    VisitCost cost;
    for (VersionedValue& sibling : siblings) {
      if (sibling.tombstone) continue;
      cost.items += 1;
      cost.bytes += key.size() + sibling.value.size() + sibling.version.size();
      page.items.push_back({Bytes(key), std::move(sibling.value), std::move(sibling.version)});
    }
    return cost;
  };
  TESSERA_ASSIGN_OR_RETURN(page.next_page_token,
                           walk(table, start, end, limit, page_token, live_siblings));
  return page;
}

Result<StoreVersionsPage> LocalStore::scan_versions(std::string_view table, ByteView start,
                                                    ByteView end, uint32_t limit,
                                                    ByteView page_token) const {
  StoreVersionsPage page;
  auto every_version = [&page](ByteView key, std::vector<VersionedValue> versions) {
    VisitCost cost{1, key.size()};
    for (const VersionedValue& v : versions) cost.bytes += v.value.size() + v.version.size();
    page.items.push_back({Bytes(key), std::move(versions)});
    return cost;
  };
  TESSERA_ASSIGN_OR_RETURN(page.next_page_token,
                           walk(table, start, end, limit, page_token, every_version));
  return page;
}

Result<TombstoneSweep> LocalStore::collect_tombstones(ByteView cursor, size_t keys_max,
                                                      uint64_t grace_ms) {
  uint64_t now = options_.now_ms();
  uint64_t cutoff = now > grace_ms ? now - grace_ms : 0;
  auto expired = [cutoff](ByteView record) -> Result<bool> {
    TESSERA_ASSIGN_OR_RETURN(std::vector<VersionedValue> siblings, decode_record(record));
    for (const VersionedValue& sibling : siblings) {
      if (!sibling.tombstone || tombstone_written_ms(sibling) > cutoff) return false;
    }
    return true;
  };

  TombstoneSweep sweep;
  std::vector<Bytes> candidates;
  {
    auto it = engine_->new_iterator({.upper_bound = table_prefix(kTableIdEnd)});
    Bytes first_data_key = table_prefix(kCatalogTableId + 1);
    it->seek(cursor.empty() || cursor < ByteView(first_data_key) ? ByteView(first_data_key)
                                                                   : cursor);
    for (; it->valid(); it->next()) {
      if (sweep.examined == keys_max) {
        sweep.next_cursor = Bytes(it->key());
        break;
      }
      ++sweep.examined;
      Result<bool> old = expired(it->value());
      if (!old.is_ok()) {
        // Counted, not fatal: failing the pass would stop every later pass at this key too.
        ++sweep.unreadable;
        continue;
      }
      if (*old) candidates.emplace_back(it->key());
    }
    TESSERA_RETURN_IF_ERROR(it->status());
  }
  for (const Bytes& key : candidates) {
    // Re-check under the key's lock: a write may have landed since the iterator read it.
    std::lock_guard lock(stripe(key));
    TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> record, engine_->get({}, key));
    if (!record) continue;
    Result<bool> old = expired(*record);
    if (!old.is_ok() || !*old) continue;
    TESSERA_RETURN_IF_ERROR(engine_->del({}, key));
    ++sweep.collected;
  }
  return sweep;
}

}  // namespace tessera::node
