#include "metadata_store.h"

#include <capnp/serialize.h>

#include <algorithm>
#include <map>
#include <set>

#include "metadata_codec.h"
#include "sqlite_statement.h"

namespace tessera::leader {
namespace {

constexpr int64_t kFormat = 1;
constexpr size_t kRestoreBytesMax = size_t{256} << 20;

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cluster(id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes(id TEXT PRIMARY KEY, address TEXT NOT NULL, zone TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS ranges(
  id INTEGER PRIMARY KEY, table_name TEXT NOT NULL, start BLOB NOT NULL, end_key BLOB NOT NULL,
  epoch INTEGER NOT NULL, group_id TEXT NOT NULL, voters TEXT NOT NULL, learners TEXT NOT NULL,
  leader TEXT NOT NULL, state INTEGER NOT NULL, split_key BLOB NOT NULL, leaving TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ranges_by_table ON ranges(table_name, start);
CREATE TABLE IF NOT EXISTS changes(generation INTEGER PRIMARY KEY, range_id INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('format', 1), ('applied_index', 0), ('generation', 0),
  ('founded', 0), ('next_table_id', 1), ('next_range_id', 1);
)";

// Node lists are kept as one text column, ids separated by newlines.
std::string join(const std::vector<NodeId>& nodes) {
  std::string out;
  for (const NodeId& n : nodes) {
    if (!out.empty()) out += '\n';
    out += n;
  }
  return out;
}
std::vector<NodeId> split(const std::string& text) {
  std::vector<NodeId> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool valid_ids(const std::vector<NodeId>& nodes) {
  std::set<NodeId> seen;
  for (const NodeId& n : nodes) {
    if (n.empty() || n.find('\n') != std::string::npos || !seen.insert(n).second) return false;
  }
  return true;
}

Result<int64_t> get_meta(sqlite3* db, const char* key) {
  SqliteStatement s(db, "SELECT value FROM meta WHERE key = ?");
  s.bind_text(1, key);
  TESSERA_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return Status::corruption(std::string("metadata database lacks meta.") + key);
  return s.column_int(0);
}

Status set_meta(sqlite3* db, const char* key, int64_t value) {
  SqliteStatement s(db, "UPDATE meta SET value = ? WHERE key = ?");
  s.bind(1, value).bind_text(2, key);
  return s.run();
}

// Raises the generation for a change of range `range_id` (0: the nodes), and forgets changes
// older than the last kChangesKept.
Result<uint64_t> record_change(sqlite3* db, uint64_t range_id) {
  TESSERA_ASSIGN_OR_RETURN(int64_t generation, get_meta(db, "generation"));
  ++generation;
  TESSERA_RETURN_IF_ERROR(set_meta(db, "generation", generation));
  SqliteStatement add(db, "INSERT INTO changes VALUES (?, ?)");
  TESSERA_RETURN_IF_ERROR(add.bind(1, generation).bind(2, static_cast<int64_t>(range_id)).run());
  SqliteStatement trim(db, "DELETE FROM changes WHERE generation <= ?");
  TESSERA_RETURN_IF_ERROR(
      trim.bind(1, generation - static_cast<int64_t>(MetadataStore::kChangesKept)).run());
  return static_cast<uint64_t>(generation);
}

constexpr const char* kRangeColumns =
    "id, table_name, start, end_key, epoch, group_id, voters, learners, leader, state, "
    "split_key, leaving";

RangeDescriptor read_range(const SqliteStatement& s) {
  RangeDescriptor r;
  r.id = static_cast<uint64_t>(s.column_int(0));
  r.range.table = s.column_bytes(1);
  r.range.start = s.column_bytes(2);
  r.range.end = s.column_bytes(3);
  r.epoch = static_cast<uint64_t>(s.column_int(4));
  r.group = s.column_bytes(5);
  r.voters = split(s.column_bytes(6));
  r.learners = split(s.column_bytes(7));
  r.leader = s.column_bytes(8);
  r.state = static_cast<RangeState>(s.column_int(9));
  r.split_key = s.column_bytes(10);
  r.leaving = s.column_bytes(11);
  return r;
}

Status write_range(sqlite3* db, const RangeDescriptor& r) {
  SqliteStatement s(db,
                    "INSERT OR REPLACE INTO ranges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, static_cast<int64_t>(r.id))
      .bind_text(2, r.range.table)
      .bind_blob(3, r.range.start)
      .bind_blob(4, r.range.end)
      .bind(5, static_cast<int64_t>(r.epoch))
      .bind_text(6, r.group)
      .bind_text(7, join(r.voters))
      .bind_text(8, join(r.learners))
      .bind_text(9, r.leader)
      .bind(10, static_cast<int64_t>(r.state))
      .bind_blob(11, r.split_key)
      .bind_text(12, r.leaving);
  return s.run();
}

Result<std::optional<RangeDescriptor>> find_range(sqlite3* db, uint64_t id) {
  SqliteStatement s(db, (std::string("SELECT ") + kRangeColumns + " FROM ranges WHERE id = ?").c_str());
  s.bind(1, static_cast<int64_t>(id));
  TESSERA_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<RangeDescriptor>();
  return std::optional<RangeDescriptor>(read_range(s));
}

Result<std::vector<RangeDescriptor>> ranges_of(sqlite3* db, const std::string* table) {
  std::string sql = std::string("SELECT ") + kRangeColumns + " FROM ranges";
  if (table != nullptr) sql += " WHERE table_name = ?";
  sql += " ORDER BY table_name, start";
  SqliteStatement s(db, sql.c_str());
  if (table != nullptr) s.bind_text(1, *table);
  std::vector<RangeDescriptor> out;
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(read_range(s));
  }
  return out;
}

Result<bool> table_exists(sqlite3* db, const std::string& name) {
  SqliteStatement s(db, "SELECT 1 FROM tables WHERE name = ?");
  s.bind_text(1, name);
  return s.step();
}

// Whether `ranges` (sorted by start) tile their table's key space.
bool tiled(const std::vector<RangeDescriptor>& ranges) {
  if (ranges.empty() || !ranges.front().range.start.empty() || !ranges.back().range.end.empty()) {
    return false;
  }
  for (size_t i = 0; i + 1 < ranges.size(); ++i) {
    if (ranges[i].range.end != ranges[i + 1].range.start) return false;
  }
  for (const RangeDescriptor& r : ranges) {
    if (!r.range.end.empty() && r.range.end <= r.range.start) return false;
  }
  return true;
}

// Applies one decoded command inside the caller's savepoint. The outer Result fails when the
// database fails (the batch is abandoned); a refusal is a CommandResult with a non-OK status,
// and the caller rolls the savepoint back.
class CommandApplier {
 public:
  explicit CommandApplier(sqlite3* db) : db_(db) {}

  Result<CommandResult> apply(rpc::meta::Command::Reader command) {
    TESSERA_ASSIGN_OR_RETURN(int64_t founded, get_meta(db_, "founded"));
    if (command.isFound()) return found(command.getFound(), founded != 0);
    if (founded == 0) {
      return refuse(Status::unavailable("the cluster is not founded yet"));
    }
    switch (command.which()) {
      case rpc::meta::Command::PUT_NODE:
        return put_node(command.getPutNode());
      case rpc::meta::Command::CREATE_TABLE:
        return create_table(command.getCreateTable());
      case rpc::meta::Command::DROP_TABLE:
        return drop_table(command.getDropTable().cStr());
      case rpc::meta::Command::PUT_RANGES:
        return put_ranges(command.getPutRanges());
      case rpc::meta::Command::SET_LEADER:
        return set_leader(command.getSetLeader());
      default:
        return refuse(Status::invalid_argument("an unknown metadata command"));
    }
  }

 private:
  static CommandResult refuse(Status status) { return CommandResult{std::move(status)}; }

  Result<CommandResult> done(uint64_t table_id = 0, uint64_t range_id = 0) {
    TESSERA_ASSIGN_OR_RETURN(int64_t generation, get_meta(db_, "generation"));
    return CommandResult{Status::ok(), table_id, range_id, static_cast<uint64_t>(generation)};
  }

  Result<CommandResult> found(rpc::meta::Command::Found::Reader found, bool founded) {
    if (founded) {
      SqliteStatement s(db_, "SELECT name FROM cluster");
      TESSERA_ASSIGN_OR_RETURN(bool row, s.step());
      return refuse(Status::invalid_argument(
          "the cluster is already founded (as '" + (row ? s.column_bytes(0) : Bytes()) +
          "'); it is never founded again"));
    }
    if (found.getClusterId().size() == 0) {
      return refuse(Status::invalid_argument("a founding needs a cluster id"));
    }
    SqliteStatement s(db_, "INSERT INTO cluster VALUES (1, ?)");
    TESSERA_RETURN_IF_ERROR(s.bind_text(1, found.getClusterId().cStr()).run());
    for (auto node : found.getNodes()) {
      Result<CommandResult> put = put_node(node);
      if (!put.is_ok() || !put.value().status.is_ok()) return put;
    }
    TESSERA_RETURN_IF_ERROR(set_meta(db_, "founded", 1));
    return done();
  }

  Result<CommandResult> put_node(rpc::meta::NodeRecord::Reader node) {
    const std::string id = node.getId().cStr();
    if (!valid_ids({id}) || node.getAddress().size() == 0) {
      return refuse(Status::invalid_argument("a node needs an id (no newline) and an address"));
    }
    SqliteStatement s(db_, "INSERT OR REPLACE INTO nodes VALUES (?, ?, ?)");
    TESSERA_RETURN_IF_ERROR(
        s.bind_text(1, id).bind_text(2, node.getAddress().cStr()).bind_text(3, node.getZone().cStr()).run());
    TESSERA_RETURN_IF_ERROR(record_change(db_, 0).status());
    return done();
  }

  Result<CommandResult> create_table(rpc::meta::Command::CreateTable::Reader create) {
    const std::string name = create.getName().cStr();
    if (name.empty()) return refuse(Status::invalid_argument("a table needs a name"));
    // The table's ranges in key order: the first from the empty key, then moreRanges.
    std::vector<RangeDescriptor> ranges(1);
    ranges[0].group = create.getGroup().cStr();
    for (auto v : create.getVoters()) ranges[0].voters.emplace_back(v.cStr());
    for (auto more : create.getMoreRanges()) {
      RangeDescriptor range;
      range.range.start = Bytes(reinterpret_cast<const char*>(more.getStart().begin()),
                                more.getStart().size());
      range.group = more.getGroup().cStr();
      for (auto v : more.getVoters()) range.voters.emplace_back(v.cStr());
      if (range.range.start <= ranges.back().range.start) {
        return refuse(Status::invalid_argument("table '" + name +
                                               "': the ranges' start keys must increase, and "
                                               "only the first starts at the empty key"));
      }
      ranges.back().range.end = range.range.start;
      ranges.push_back(std::move(range));
    }
    std::set<std::string> groups;
    for (const RangeDescriptor& range : ranges) {
      if (range.group.empty() || !groups.insert(range.group).second || range.voters.empty() ||
          !valid_ids(range.voters)) {
        return refuse(Status::invalid_argument(
            "table '" + name + "' needs a distinct group and distinct, non-empty voters for "
            "each range"));
      }
    }
    TESSERA_ASSIGN_OR_RETURN(bool exists, table_exists(db_, name));
    if (exists) return refuse(Status::table_exists("table '" + name + "' exists"));
    TESSERA_ASSIGN_OR_RETURN(int64_t table_id, get_meta(db_, "next_table_id"));
    TESSERA_ASSIGN_OR_RETURN(int64_t range_id, get_meta(db_, "next_range_id"));
    TESSERA_RETURN_IF_ERROR(set_meta(db_, "next_table_id", table_id + 1));
    TESSERA_RETURN_IF_ERROR(
        set_meta(db_, "next_range_id", range_id + static_cast<int64_t>(ranges.size())));
    SqliteStatement s(db_, "INSERT INTO tables VALUES (?, ?)");
    TESSERA_RETURN_IF_ERROR(s.bind(1, table_id).bind_text(2, name).run());
    for (size_t i = 0; i < ranges.size(); ++i) {
      RangeDescriptor& range = ranges[i];
      range.id = static_cast<uint64_t>(range_id) + i;
      range.range.table = name;
      TESSERA_RETURN_IF_ERROR(write_range(db_, range));
      TESSERA_RETURN_IF_ERROR(record_change(db_, range.id).status());
    }
    return done(static_cast<uint64_t>(table_id), ranges[0].id);
  }

  Result<CommandResult> drop_table(const std::string& name) {
    TESSERA_ASSIGN_OR_RETURN(bool exists, table_exists(db_, name));
    if (!exists) return refuse(Status::no_such_table("no table '" + name + "'"));
    TESSERA_ASSIGN_OR_RETURN(std::vector<RangeDescriptor> ranges, ranges_of(db_, &name));
    SqliteStatement drop(db_, "DELETE FROM tables WHERE name = ?");
    TESSERA_RETURN_IF_ERROR(drop.bind_text(1, name).run());
    SqliteStatement drop_ranges(db_, "DELETE FROM ranges WHERE table_name = ?");
    TESSERA_RETURN_IF_ERROR(drop_ranges.bind_text(1, name).run());
    for (const RangeDescriptor& r : ranges) TESSERA_RETURN_IF_ERROR(record_change(db_, r.id).status());
    return done();
  }

  Result<CommandResult> put_ranges(capnp::List<rpc::meta::RangeUpdate>::Reader updates) {
    std::set<std::string> tables;
    std::set<uint64_t> seen;
    for (auto update : updates) {
      RangeDescriptor next = read_range_record(update.getRange());
      const uint64_t expect = update.getExpectEpoch();
      const std::string what = "range " + std::to_string(next.id);
      if (next.id == 0 || !seen.insert(next.id).second) {
        return refuse(Status::invalid_argument(what + ": a zero or repeated id"));
      }
      if (next.epoch != expect + 1) {
        return refuse(Status::invalid_argument(what + ": its new epoch must be " +
                                               std::to_string(expect + 1)));
      }
      if (next.group.empty() || next.voters.empty() || !valid_ids(next.voters) ||
          !valid_ids(next.learners)) {
        return refuse(Status::invalid_argument(what + ": needs a group and distinct voters"));
      }
      TESSERA_ASSIGN_OR_RETURN(bool exists, table_exists(db_, next.range.table));
      if (!exists) return refuse(Status::no_such_table("no table '" + next.range.table + "'"));
      TESSERA_ASSIGN_OR_RETURN(std::optional<RangeDescriptor> current, find_range(db_, next.id));
      const uint64_t current_epoch = current ? current->epoch : 0;
      if (current_epoch != expect) {
        return refuse(Status::stale_route(what + " is at epoch " + std::to_string(current_epoch) +
                                              ", not " + std::to_string(expect),
                                          current_epoch));
      }
      if (current && current->range.table != next.range.table) {
        return refuse(Status::invalid_argument(what + ": a range cannot change its table"));
      }
      if (!current) {
        TESSERA_ASSIGN_OR_RETURN(int64_t next_id, get_meta(db_, "next_range_id"));
        if (static_cast<int64_t>(next.id) < next_id) {
          return refuse(Status::invalid_argument(what + ": the id was used before"));
        }
        TESSERA_RETURN_IF_ERROR(set_meta(db_, "next_range_id", static_cast<int64_t>(next.id) + 1));
      }
      TESSERA_RETURN_IF_ERROR(write_range(db_, next));
      TESSERA_RETURN_IF_ERROR(record_change(db_, next.id).status());
      tables.insert(next.range.table);
    }
    for (const std::string& table : tables) {
      TESSERA_ASSIGN_OR_RETURN(std::vector<RangeDescriptor> ranges, ranges_of(db_, &table));
      if (!tiled(ranges)) {
        return refuse(Status::invalid_argument("the ranges of table '" + table +
                                               "' would leave a gap or an overlap"));
      }
    }
    return done();
  }

  Result<CommandResult> set_leader(rpc::meta::Command::SetLeader::Reader set) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<RangeDescriptor> range, find_range(db_, set.getRangeId()));
    if (!range) {
      return refuse(Status::invalid_argument("no range " + std::to_string(set.getRangeId())));
    }
    const std::string leader = set.getLeader().cStr();
    if (range->leader != leader) {
      range->leader = leader;
      TESSERA_RETURN_IF_ERROR(write_range(db_, *range));
      TESSERA_RETURN_IF_ERROR(record_change(db_, range->id).status());
    }
    return done();
  }

  sqlite3* const db_;
};

}  // namespace

Result<std::unique_ptr<MetadataStore>> MetadataStore::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status status = Status::io_error("metadata database " + file.string() + ": " +
                                     (db != nullptr ? sqlite3_errmsg(db) : "cannot open"));
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<MetadataStore> store(new MetadataStore(db, file));
  Status ready = sqlite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (ready.is_ok()) ready = sqlite_exec(db, kSchema);
  if (ready.is_ok()) {
    std::lock_guard lock(store->mutex_);
    ready = store->load_counters();
  }
  if (!ready.is_ok()) return ready.with_context("metadata database " + file.string());
  return store;
}

MetadataStore::MetadataStore(sqlite3* db, std::filesystem::path file)
    : db_(db), file_(std::move(file)) {}

MetadataStore::~MetadataStore() { sqlite3_close(db_); }

Status MetadataStore::load_counters() {
  TESSERA_ASSIGN_OR_RETURN(int64_t format, get_meta(db_, "format"));
  if (format != kFormat) {
    return Status::corruption("format " + std::to_string(format) + ", this build reads " +
                              std::to_string(kFormat));
  }
  TESSERA_ASSIGN_OR_RETURN(int64_t applied, get_meta(db_, "applied_index"));
  TESSERA_ASSIGN_OR_RETURN(int64_t generation, get_meta(db_, "generation"));
  TESSERA_ASSIGN_OR_RETURN(int64_t founded, get_meta(db_, "founded"));
  applied_ = static_cast<LogIndex>(applied);
  generation_ = static_cast<uint64_t>(generation);
  founded_ = founded != 0;
  return Status::ok();
}

Status MetadataStore::apply(std::span<const Command> commands, std::vector<Bytes>& results) {
  std::lock_guard lock(mutex_);
  results.clear();
  if (commands.empty()) return Status::ok();
  TESSERA_RETURN_IF_ERROR(sqlite_exec(db_, "BEGIN IMMEDIATE"));
  auto abandon = [&](Status status) {
    (void)sqlite_exec(db_, "ROLLBACK");
    (void)load_counters();
    results.clear();
    return status;
  };
  CommandApplier applier(db_);
  for (const Command& command : commands) {
    if (command.data.empty()) {  // the plugin's own entry
      results.emplace_back();
      continue;
    }
    Status savepoint = sqlite_exec(db_, "SAVEPOINT command");
    if (!savepoint.is_ok()) return abandon(savepoint);
    Result<CommandResult> outcome = CommandResult{};
    KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                   kj::Array<capnp::word> words = copy_to_words(command.data);
                   capnp::FlatArrayMessageReader reader(words);
                   outcome = applier.apply(reader.getRoot<rpc::meta::Command>());
                 })) {
      outcome = CommandResult{Status::invalid_argument(
          "a metadata command that does not parse: " + std::string(e->getDescription().cStr()))};
    }
    if (!outcome.is_ok()) return abandon(outcome.status());
    const bool refused = !outcome.value().status.is_ok();
    Status end = sqlite_exec(db_, refused ? "ROLLBACK TO command; RELEASE command"
                                          : "RELEASE command");
    if (!end.is_ok()) return abandon(end);
    if (refused) {
      Result<int64_t> generation = get_meta(db_, "generation");
      if (!generation.is_ok()) return abandon(generation.status());
      outcome.value().generation = static_cast<uint64_t>(generation.value());
    }
    results.push_back(encode_result(outcome.value()));
  }
  Status index = set_meta(db_, "applied_index", static_cast<int64_t>(commands.back().index));
  if (!index.is_ok()) return abandon(index);
  Status committed = sqlite_exec(db_, "COMMIT");
  if (!committed.is_ok()) return abandon(committed);
  return load_counters();
}

LogIndex MetadataStore::durable_index() const {
  std::lock_guard lock(mutex_);
  return applied_;  // every commit is synced (synchronous=FULL)
}

namespace {

class OneChunk final : public SnapshotChunks {
 public:
  explicit OneChunk(Bytes bytes) : bytes_(std::move(bytes)) {}
  Result<std::optional<Bytes>> next() override {
    if (done_) return std::optional<Bytes>();
    done_ = true;
    return std::optional<Bytes>(std::move(bytes_));
  }

 private:
  Bytes bytes_;
  bool done_ = false;
};

}  // namespace

Result<GroupStateMachine::Image> MetadataStore::snapshot() {
  std::lock_guard lock(mutex_);
  sqlite3_int64 size = 0;
  unsigned char* data = sqlite3_serialize(db_, "main", &size, 0);
  if (data == nullptr) return sqlite_error(db_, "snapshot of the metadata database");
  Bytes bytes(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
  sqlite3_free(data);
  return Image{applied_, std::make_unique<OneChunk>(std::move(bytes))};
}

Status MetadataStore::restore(LogIndex index, SnapshotChunks& chunks) {
  Bytes image;
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<Bytes> chunk, chunks.next());
    if (!chunk) break;
    if (image.size() + chunk->size() > kRestoreBytesMax) {
      return Status::too_large("a metadata snapshot above " + std::to_string(kRestoreBytesMax) +
                               " bytes");
    }
    image += *chunk;
  }
  std::lock_guard lock(mutex_);
  sqlite3* source = nullptr;
  if (sqlite3_open(":memory:", &source) != SQLITE_OK) {
    sqlite3_close(source);
    return Status::io_error("cannot open an in-memory database for a metadata restore");
  }
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close(db); }
  } closer{source};
  auto* buffer = static_cast<unsigned char*>(sqlite3_malloc64(image.size()));
  if (buffer == nullptr) return Status::io_error("out of memory for a metadata restore");
  std::copy(image.begin(), image.end(), buffer);
  // The image is of a WAL database (header bytes 18 and 19 say 2); an in-memory database has
  // no WAL, so mark the copy as a rollback-journal one. The backup below writes our own pages
  // through our own WAL either way.
  if (image.size() >= 100) buffer[18] = buffer[19] = 1;
  if (sqlite3_deserialize(source, "main", buffer, static_cast<sqlite3_int64>(image.size()),
                          static_cast<sqlite3_int64>(image.size()),
                          SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) !=
      SQLITE_OK) {
    return Status::corruption("a metadata snapshot SQLite cannot read: " +
                              std::string(sqlite3_errmsg(source)));
  }
  // The backup replaces every page of ours in one transaction: a crash leaves the old state or
  // the new one, and a restore started again starts from the beginning.
  sqlite3_backup* backup = sqlite3_backup_init(db_, "main", source, "main");
  if (backup == nullptr) return sqlite_error(db_, "metadata restore");
  const int stepped = sqlite3_backup_step(backup, -1);
  const int finished = sqlite3_backup_finish(backup);
  if (stepped != SQLITE_DONE || finished != SQLITE_OK) return sqlite_error(db_, "metadata restore");
  TESSERA_RETURN_IF_ERROR(set_meta(db_, "applied_index", static_cast<int64_t>(index)));
  return load_counters();
}

bool MetadataStore::founded() const {
  std::lock_guard lock(mutex_);
  return founded_;
}

uint64_t MetadataStore::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

Result<RangeMap> MetadataStore::range_map() const {
  std::lock_guard lock(mutex_);
  TESSERA_ASSIGN_OR_RETURN(std::vector<RangeDescriptor> ranges, ranges_of(db_, nullptr));
  return RangeMap{generation_, std::move(ranges)};
}

Result<std::vector<NodeInfo>> MetadataStore::nodes() const {
  std::lock_guard lock(mutex_);
  SqliteStatement s(db_, "SELECT id, address, zone FROM nodes ORDER BY id");
  std::vector<NodeInfo> out;
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(NodeInfo{s.column_bytes(0), s.column_bytes(1), s.column_bytes(2)});
  }
  return out;
}

Result<std::optional<uint64_t>> MetadataStore::table_id(const std::string& name) const {
  std::lock_guard lock(mutex_);
  SqliteStatement s(db_, "SELECT id FROM tables WHERE name = ?");
  s.bind_text(1, name);
  TESSERA_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<uint64_t>();
  return std::optional<uint64_t>(static_cast<uint64_t>(s.column_int(0)));
}

Result<std::optional<RangeChanges>> MetadataStore::changes_since(uint64_t generation) const {
  std::lock_guard lock(mutex_);
  RangeChanges changes;
  changes.generation = generation_;
  if (generation >= generation_) return std::optional<RangeChanges>(std::move(changes));
  SqliteStatement oldest(db_, "SELECT MIN(generation) FROM changes");
  TESSERA_ASSIGN_OR_RETURN(bool row, oldest.step());
  if (!row || static_cast<uint64_t>(oldest.column_int(0)) > generation + 1) {
    return std::optional<RangeChanges>();  // no longer all kept: pull the whole map
  }
  SqliteStatement s(db_, "SELECT DISTINCT range_id FROM changes WHERE generation > ?");
  s.bind(1, static_cast<int64_t>(generation));
  std::vector<uint64_t> ids;
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(bool more, s.step());
    if (!more) break;
    ids.push_back(static_cast<uint64_t>(s.column_int(0)));
  }
  for (uint64_t id : ids) {
    if (id == 0) {
      changes.nodes_changed = true;
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(std::optional<RangeDescriptor> range, find_range(db_, id));
    if (range) {
      changes.changed.push_back(std::move(*range));
    } else {
      changes.removed.push_back(id);
    }
  }
  return std::optional<RangeChanges>(std::move(changes));
}

}  // namespace tessera::leader
