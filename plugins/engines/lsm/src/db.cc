#include "db.h"

#include <algorithm>
#include <chrono>

#include "wal_format.h"
#include "wal_reader.h"

namespace tessera::lsm {
namespace {

// A commit group stops growing at this many bytes; a small leader batch lets fewer bytes join,
// so that a small write is not held up behind a large group.
constexpr size_t kGroupBytesMax = 1 << 20;
constexpr size_t kSmallBatchBytes = 128 << 10;
// One batch is one WAL record (with its 8-byte sequence header).
constexpr size_t kBatchBytesMax = kRecordPayloadBytesMax - 8;
// The WAL is zero-filled this far ahead of its appends (see WritableFile), so that a synced
// append costs one data flush and no journal commit.
constexpr uint64_t kWalZeroFillChunkBytes = 1 << 20;


uint64_t micros_since(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

Status apply_to_memtable(const WriteBatch& batch, SequenceNumber first, MemTable* mem) {
  SequenceNumber sequence = first;
  batch.for_each([&](const WriteBatch::Op& op) {
    ValueType type = op.kind == WriteBatch::OpKind::kPut ? ValueType::kValue : ValueType::kDeletion;
    mem->add(sequence++, type, op.key, op.value);
  });
  return Status::ok();
}

}  // namespace

struct LsmEngine::Writer {
  const WriteBatch* batch = nullptr;  // nullptr: a sync() or flush() request
  bool sync = false;
  bool force_flush = false;
  bool no_wait = false;  // WriteOptions::no_wait: WouldBlock rather than wait for room or an fsync
  bool done = false;
  Status status;
  std::condition_variable cv;
};

class LsmEngine::LsmSnapshot final : public Snapshot {
 public:
  LsmSnapshot(LsmEngine* engine, SequenceNumber sequence) : engine_(engine), sequence_(sequence) {}
  ~LsmSnapshot() override { engine_->release_snapshot(sequence_); }
  SequenceNumber sequence() const { return sequence_; }

 private:
  LsmEngine* engine_;
  SequenceNumber sequence_;
};

LsmEngine::LsmEngine(fs::path dir, const LsmOptions& options, TestHooks hooks)
    : dir_(std::move(dir)),
      options_(options),
      hooks_(std::move(hooks)),
      cache_(options.block_cache_bytes_max),
      versions_(dir_, &cache_, &hooks_) {}

Result<std::unique_ptr<LsmEngine>> LsmEngine::open(const fs::path& dir, const LsmOptions& options,
                                                   TestHooks hooks) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::io_error(dir.string() + ": create directory: " + ec.message());
  std::unique_ptr<LsmEngine> engine(new LsmEngine(dir, options, std::move(hooks)));
  TESSERA_ASSIGN_OR_RETURN(engine->dir_lock_, DirLock::acquire(dir));
  TESSERA_RETURN_IF_ERROR(engine->recover());
  engine->bg_thread_ = std::thread([e = engine.get()] { e->background_loop(); });
  return engine;
}

LsmEngine::~LsmEngine() {
  group_sync_.stop();
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    shutting_down_flag_.store(true);
  }
  bg_work_cv_.notify_all();
  if (bg_thread_.joinable()) bg_thread_.join();
  if (wal_ != nullptr) {
    // A clean close leaves nothing unsynced behind (unless syncing is switched off).
    if (options_.wal_sync != WalSync::kNone) (void)wal_->sync();
    (void)wal_->close();
  }
}

// ---- Recovery ---------------------------------------------------------------------------

Status LsmEngine::replay_log(const fs::path& path, TailPolicy policy,
                             std::shared_ptr<MemTable>* mem, VersionEdit* edit,
                             SequenceNumber* max_sequence, bool keep_in_memory,
                             uint64_t* valid_bytes) {
  TableEnv env = table_env();
  auto summary = read_log_file(path, policy, [&](ByteView payload) {
    if (payload.size() < 8) return Status::corruption("WAL record too short");
    SequenceNumber first = decode_fixed64_le(payload.data());
    auto batch = WriteBatch::from_rep(payload.substr(8));
    if (!batch.is_ok()) return batch.status();
    TESSERA_RETURN_IF_ERROR(apply_to_memtable(*batch, first, mem->get()));
    if (batch->count() > 0) *max_sequence = std::max(*max_sequence, first + batch->count() - 1);
    if (!keep_in_memory && (*mem)->memory_usage() > options_.memtable_bytes_max) {
      auto iter = MemTable::new_iterator(*mem);
      uint64_t bytes = 0;
      TESSERA_ASSIGN_OR_RETURN(auto file, build_table(iter.get(), env, &bytes));
      if (file != nullptr) edit->added_files.emplace_back(0, std::move(file));
      *mem = std::make_shared<MemTable>();
    }
    return Status::ok();
  });
  if (!summary.is_ok()) return summary.status();
  recovered_dropped_bytes_ += summary->dropped_bytes;
  if (valid_bytes != nullptr) *valid_bytes = summary->valid_bytes;
  return Status::ok();
}

Status LsmEngine::recover() {
  TESSERA_RETURN_IF_ERROR(versions_.recover());
  std::vector<uint64_t> logs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    uint64_t number;
    if (parse_file_name(entry.path().filename().string(), &number) == FileKind::kLog &&
        number >= versions_.log_number()) {
      logs.push_back(number);
    }
  }
  if (ec) return Status::io_error(dir_.string() + ": list directory: " + ec.message());
  std::sort(logs.begin(), logs.end());
  // File numbers must move past every WAL found, even one the manifest did not know about.
  while (!logs.empty() && versions_.new_file_number() <= logs.back()) {
  }
  // Only the WAL that was being appended when the engine stopped may end in a torn record: the
  // newest one that holds any bytes. (An open creates its WAL before its manifest record names
  // it, so an open that was interrupted leaves a newer, empty WAL behind.) Every older WAL was
  // complete (and synced, unless wal_sync is none) when its successor began, so damage anywhere
  // in it is Corruption.
  std::optional<uint64_t> torn_tail_allowed;
  for (uint64_t number : logs) {
    std::error_code size_ec;
    if (fs::file_size(log_file_path(dir_, number), size_ec) > 0 || size_ec) {
      torn_tail_allowed = number;
    }
  }
  VersionEdit edit;
  auto mem = std::make_shared<MemTable>();
  SequenceNumber max_sequence = versions_.last_sequence();
  // Tables written so far are deleted if the open fails before the manifest names them.
  auto discard = [&](const Status& status) {
    discard_added_files(edit);
    return status;
  };
  uint64_t torn_valid_bytes = 0;  // of the WAL that may end torn
  auto replay_all = [&](bool keep_in_memory) -> Status {
    for (uint64_t number : logs) {
      TailPolicy policy = number == torn_tail_allowed ? TailPolicy::kTolerateTornTail
                                                      : TailPolicy::kCompleteRecords;
      uint64_t valid = 0;
      TESSERA_RETURN_IF_ERROR(replay_log(log_file_path(dir_, number), policy, &mem, &edit,
                                         &max_sequence, keep_in_memory, &valid));
      if (number == torn_tail_allowed) torn_valid_bytes = valid;
    }
    return Status::ok();
  };
  // On a full disk, the replay again with every entry kept in memory (the WALs stay as they
  // are): the node comes up and serves reads.
  auto on_full_disk = [&](const Status& cause) {
    discard_added_files(edit);
    edit = VersionEdit();
    mem = std::make_shared<MemTable>();
    max_sequence = versions_.last_sequence();
    Status replayed = replay_all(true);
    if (!replayed.is_ok()) return replayed;
    // These WALs stay live, and a newer one will follow them: the one that may end torn must
    // end at its last good record, as a WAL left behind by a switch does (shrinking needs no
    // space).
    if (torn_tail_allowed) {
      TESSERA_RETURN_IF_ERROR(
          truncate_and_sync(log_file_path(dir_, *torn_tail_allowed), torn_valid_bytes));
    }
    return recover_read_only(mem, max_sequence, cause);
  };
  Status replayed = replay_all(false);
  if (is_no_space(replayed)) return on_full_disk(replayed);
  if (!replayed.is_ok()) return discard(replayed);
  if (mem->entry_count() > 0) {
    auto iter = MemTable::new_iterator(mem);
    uint64_t bytes = 0;
    auto file = build_table(iter.get(), table_env(), &bytes);
    if (is_no_space(file.status())) return on_full_disk(file.status());
    if (!file.is_ok()) return discard(file.status());
    if (*file != nullptr) edit.added_files.emplace_back(0, std::move(file).value());
  }
  edit.last_sequence = max_sequence;
  wal_number_ = versions_.new_file_number();
  auto wal = WalWriter::create(log_file_path(dir_, wal_number_), kWalZeroFillChunkBytes,
                                 hooks_.before_file_grows);
  if (is_no_space(wal.status())) return on_full_disk(wal.status());
  if (!wal.is_ok()) return discard(wal.status());
  wal_ = std::move(wal).value();
  // One directory fsync makes both the new WAL and the recovered tables durable before the
  // manifest names them.
  Status synced = sync_data_dir();
  if (!synced.is_ok()) return discard(synced);
  edit.log_number = wal_number_;
  {
    std::lock_guard lock(mutex_);
    TESSERA_RETURN_IF_ERROR(log_new_tables(&edit));
  }
  mem_ = std::make_shared<MemTable>();
  remove_obsolete_files();
  return Status::ok();
}

Status LsmEngine::recover_read_only(std::shared_ptr<MemTable> mem, SequenceNumber max_sequence,
                                    const Status& cause) {
  std::lock_guard lock(mutex_);
  versions_.set_last_sequence(max_sequence);
  mem_ = std::move(mem);
  read_only_ = true;
  disk_full_ = disk_full(cause);
  remove_obsolete_files();  // what a full disk can still give back
  return Status::ok();
}

Status LsmEngine::disk_full(const Status& cause) const {
  return Status::io_error("lsm: the disk holding " + dir_.string() +
                          " is full; writes are refused until space is freed, reads go on (" +
                          cause.message() + ")");
}

Status LsmEngine::leave_read_only() {
  const auto now = Clock::now();
  if (now < leave_read_only_at_) return disk_full_;
  leave_read_only_at_ = now + std::chrono::seconds(1);
  const uint64_t number = versions_.new_file_number();
  auto wal = WalWriter::create(log_file_path(dir_, number), kWalZeroFillChunkBytes,
                                 hooks_.before_file_grows);
  Status status = wal.status();
  if (status.is_ok()) status = sync_data_dir();
  if (!status.is_ok()) {
    std::error_code ec;
    fs::remove(log_file_path(dir_, number), ec);
    if (is_no_space(status)) disk_full_ = disk_full(status);
    return is_no_space(status) ? disk_full_ : status;
  }
  // The recovered entries flush like any frozen memtable; the old WALs go once they have.
  wal_ = std::move(wal).value();
  wal_number_ = number;
  if (mem_->entry_count() > 0) {
    imm_ = mem_;
    has_imm_.store(true);
    mem_ = std::make_shared<MemTable>();
    bg_work_cv_.notify_one();
  }
  read_only_ = false;
  disk_full_ = Status::ok();
  return Status::ok();
}

void LsmEngine::remove_obsolete_files() {
  std::set<uint64_t> live;
  for (const auto& files : versions_.current()->levels) {
    for (const auto& f : files) live.insert(f->number);
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    uint64_t number;
    bool remove = false;
    switch (parse_file_name(entry.path().filename().string(), &number)) {
      case FileKind::kLog:
        remove = number < versions_.log_number();
        break;
      case FileKind::kTable:
        remove = live.count(number) == 0;
        break;
      case FileKind::kManifest:
        remove = number != versions_.manifest_number();
        break;
      case FileKind::kTemp:
        remove = true;
        break;
      default:
        break;
    }
    std::error_code remove_ec;
    if (remove) fs::remove(entry.path(), remove_ec);  // a leftover is retried next open
  }
}

Status LsmEngine::sync_data_dir() {
  TESSERA_RETURN_IF_ERROR(sync_dir(dir_));
  if (hooks_.after_dir_sync) hooks_.after_dir_sync();
  return Status::ok();
}

void LsmEngine::discard_added_files(const VersionEdit& edit) {
  // No version lists them: the last reference (the edit's) deletes each file (FileMeta).
  for (const auto& [level, file] : edit.added_files) file->obsolete.store(true);
}

TableEnv LsmEngine::table_env() {
  TableEnv env;
  env.dir = dir_;
  env.table = options_.table;
  env.target_file_bytes = options_.compaction.target_file_bytes;
  env.cache = &cache_;
  env.new_file_number = [this] {
    std::lock_guard lock(mutex_);
    return versions_.new_file_number();
  };
  env.shutting_down = [this] { return shutting_down_flag_.load(); };
  env.grow = hooks_.before_file_grows;
  return env;
}

// ---- Writes -----------------------------------------------------------------------------

Status LsmEngine::write(const WriteOptions& options, const WriteBatch& batch) {
  bool sync = options.sync || options_.wal_sync == WalSync::kAlways;
  if (batch.empty() && !sync) return Status::ok();
  if (batch.byte_size() > kBatchBytesMax) {
    return Status::too_large("lsm: a write batch of " + std::to_string(batch.byte_size()) +
                             " bytes is over the limit of " + std::to_string(kBatchBytesMax));
  }
  Writer w;
  w.batch = &batch;
  w.sync = sync;
  w.no_wait = options.no_wait;
  if (w.no_wait && sync) return Status::would_block("lsm: a synced write waits for its fsync");
  return write_writer(&w);
}

Status LsmEngine::sync() {
  Writer w;
  w.sync = true;
  return write_writer(&w);
}

Status LsmEngine::sync_wal_beside_writers() {
  if (options_.wal_sync == WalSync::kNone) return Status::ok();
  WalWriter* wal = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!bg_error_.is_ok()) return bg_error_;
    if (read_only_) return Status::ok();  // nothing written since the open: the WALs are synced
    wal = wal_.get();
    ++wal_syncs_running_;
  }
  // fdatasync beside a leader's append to the same file is safe: it covers every append that
  // returned before it began, which is all a waiter needs.
  Status status = wal->sync();
  ++wal_syncs_;
  std::lock_guard lock(mutex_);
  --wal_syncs_running_;
  wal_sync_done_cv_.notify_all();
  if (!status.is_ok() && bg_error_.is_ok()) bg_error_ = status;
  return status;
}

Status LsmEngine::flush() {
  Writer w;
  w.force_flush = true;
  TESSERA_RETURN_IF_ERROR(write_writer(&w));
  std::unique_lock lock(mutex_);
  // A flush that fails for space is retried: this waits for one try that ends either way.
  const uint64_t space_failures = bg_space_failures_;
  bg_done_cv_.wait(lock, [&] {
    return imm_ == nullptr || !bg_error_.is_ok() || bg_space_failures_ != space_failures;
  });
  if (!bg_error_.is_ok() || imm_ == nullptr) return bg_error_;
  return disk_full_;
}

Status LsmEngine::wait_for_compactions() {
  std::unique_lock lock(mutex_);
  bg_done_cv_.wait(lock, [&] {
    return !bg_busy_ && (!bg_error_.is_ok() || !disk_full_.is_ok() || !background_work_due());
  });
  return bg_error_.is_ok() ? disk_full_ : bg_error_;
}

// REQUIRES: mutex_ held; leader is writers_.front(). Returns the batch of the group (the
// leader's own when nobody joins, else `storage`), nullptr when it has no operations.
const WriteBatch* LsmEngine::build_group(Writer* leader, WriteBatch* storage, Writer** last_writer,
                                         bool* need_sync) {
  const WriteBatch* group = leader->batch;
  size_t group_bytes = leader->batch != nullptr ? leader->batch->byte_size() : 0;
  size_t limit = group_bytes <= kSmallBatchBytes ? group_bytes + kSmallBatchBytes : kGroupBytesMax;
  *need_sync = leader->sync;
  *last_writer = leader;
  static_assert(kGroupBytesMax <= kBatchBytesMax);
  for (auto it = writers_.begin() + 1; it != writers_.end(); ++it) {
    Writer* f = *it;
    if (f->force_flush) break;
    if (f->sync && !leader->sync) break;  // a non-syncing leader cannot carry a syncing follower
    size_t bytes = f->batch != nullptr ? f->batch->byte_size() : 0;
    if (group_bytes + bytes > limit) break;
    if (bytes > 0) {
      if (group != storage) {
        if (group != nullptr) storage->append(*group);
        group = storage;
      }
      storage->append(*f->batch);
    }
    group_bytes += bytes;
    *need_sync = *need_sync || f->sync;
    *last_writer = f;
  }
  return group;
}

Status LsmEngine::write_writer(Writer* w) {
  std::unique_lock lock(mutex_);
  if (read_only_) {
    if (w->batch == nullptr && !w->force_flush) return Status::ok();  // nothing to sync
    if (w->no_wait) return Status::would_block("lsm: the disk was full at open");
    TESSERA_RETURN_IF_ERROR(leave_read_only());
  }
  if (w->no_wait) {
    // Join only a queue of unsynced writes (whose leader's work is a WAL append and memtable
    // inserts), with room in the memtable and no stall; never behind an fsync.
    for (const Writer* queued : writers_) {
      if (queued->sync || queued->batch == nullptr) {
        return Status::would_block("lsm: a synced write or a flush is queued");
      }
    }
    if (!bg_error_.is_ok()) return bg_error_;
    if (!room_without_waiting()) return Status::would_block("lsm: the write would wait for room");
  }
  writers_.push_back(w);
  while (!w->done && w != writers_.front()) w->cv.wait(lock);
  if (w->done) return w->status;

  // A no_wait writer that came to lead after others filled the memtable gives up alone (the
  // group is built after this): making room may stall or sync the old WAL.
  Status status = w->no_wait && !room_without_waiting()
                      ? Status::would_block("lsm: the write would wait for room")
                      : make_room_for_write(lock, w->force_flush);
  if (status.is_ok() && w->sync && options_.wal_sync != WalSync::kNone &&
      (options_.group_commit_window_us > 0 || hooks_.commit_window)) {
    // Let more writers queue up behind this leader so they share its fsync.
    lock.unlock();
    if (hooks_.commit_window) {
      hooks_.commit_window();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(options_.group_commit_window_us));
    }
    lock.lock();
  }
  Writer* last_writer = w;
  if (status.is_ok()) {
    WriteBatch group_storage;
    bool need_sync = false;
    const WriteBatch* group = build_group(w, &group_storage, &last_writer, &need_sync);
    SequenceNumber first = versions_.last_sequence() + 1;
    size_t count = group != nullptr ? group->count() : 0;
    std::shared_ptr<MemTable> mem = mem_;
    // Only the leader touches the WAL and inserts into the memtable, so the mutex can be
    // released for the slow part; followers wait on their condition variables.
    lock.unlock();
    bool failed_cleanly = false;  // a WAL append that wrote nothing
    if (count > 0) {
      Bytes record;
      record.reserve(8 + group->byte_size());
      put_fixed64_le(&record, first);
      record.append(group->rep());
      status = wal_->add_record(record);
      failed_cleanly = !status.is_ok() && wal_->failed_cleanly();
      wal_bytes_written_ += record.size() + kRecordHeaderBytes;
      user_bytes_written_ += group->byte_size();
    }
    if (status.is_ok() && need_sync && options_.wal_sync != WalSync::kNone) {
      status = wal_->sync();
      ++wal_syncs_;
    }
    if (status.is_ok() && count > 0) status = apply_to_memtable(*group, first, mem.get());
    ++write_groups_;
    lock.lock();
    if (failed_cleanly && is_no_space(status)) {
      disk_full_ = disk_full(status);  // the WAL is as it was: later writes try again
      status = disk_full_;
    } else if (!status.is_ok()) {
      bg_error_ = status;  // the WAL may hold a partial record: refuse further writes
    } else if (count > 0) {
      versions_.set_last_sequence(first + count - 1);
      if (imm_ == nullptr) disk_full_ = Status::ok();
    }
  }
  while (true) {
    Writer* ready = writers_.front();
    writers_.pop_front();
    if (ready != w) {
      ready->status = status;
      ready->done = true;
      ready->cv.notify_one();
    }
    if (ready == last_writer) break;
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return status;
}

bool LsmEngine::room_without_waiting() const {
  return mem_->memory_usage() <= options_.memtable_bytes_max &&
         versions_.current()->levels[0].size() <
             static_cast<size_t>(options_.l0_slowdown_trigger);
}

Status LsmEngine::make_room_for_write(std::unique_lock<std::mutex>& lock, bool force) {
  bool allow_delay = !force;
  while (true) {
    if (!bg_error_.is_ok()) return bg_error_;
    size_t l0_files = versions_.current()->levels[0].size();
    if (allow_delay && l0_files >= static_cast<size_t>(options_.l0_slowdown_trigger)) {
      // Spread the wait over many writes instead of one long stop.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      lock.lock();
      allow_delay = false;
      ++stall_count_;
      stall_micros_ += 1000;
      continue;
    }
    if (!force && mem_->memory_usage() <= options_.memtable_bytes_max) return Status::ok();
    if (force && mem_->entry_count() == 0) return Status::ok();
    // A flush that cannot write its table for want of space: a write does not wait for it; a
    // forced flush waits for one more try.
    if (imm_ != nullptr && !disk_full_.is_ok()) {
      if (!force) return disk_full_;
      const uint64_t failures = bg_space_failures_;
      bg_done_cv_.wait(lock, [&] {
        return imm_ == nullptr || !bg_error_.is_ok() || bg_space_failures_ != failures;
      });
      if (imm_ != nullptr && bg_error_.is_ok()) return disk_full_;
      continue;
    }
    if (imm_ != nullptr || l0_files >= static_cast<size_t>(options_.l0_stop_trigger)) {
      auto start = Clock::now();
      ++stall_count_;
      bg_work_cv_.notify_one();
      bg_done_cv_.wait(lock);
      stall_micros_ += micros_since(start);
      continue;
    }
    // A WAL sync beside the writers may be running on the file switch_memtable closes.
    wal_sync_done_cv_.wait(lock, [&] { return wal_syncs_running_ == 0; });
    TESSERA_RETURN_IF_ERROR(switch_memtable());
    force = false;
    bg_work_cv_.notify_one();
  }
}

Status LsmEngine::switch_memtable() {
  // Writes in the old WAL that were not synced become durable with the flush; but sync() after
  // this point must cover them too, so sync before leaving the file behind.
  if (options_.wal_sync != WalSync::kNone) TESSERA_RETURN_IF_ERROR(wal_->sync());
  uint64_t number = versions_.new_file_number();
  TESSERA_ASSIGN_OR_RETURN(auto wal,
                           WalWriter::create(log_file_path(dir_, number), kWalZeroFillChunkBytes,
                                 hooks_.before_file_grows));
  // The new WAL's directory entry must be durable before a synced write in it returns.
  TESSERA_RETURN_IF_ERROR(sync_data_dir());
  Status closed = wal_->close();
  if (!closed.is_ok()) return closed;
  wal_ = std::move(wal);
  wal_number_ = number;
  imm_ = std::move(mem_);
  has_imm_.store(true);
  mem_ = std::make_shared<MemTable>();
  return Status::ok();
}

// ---- Background work --------------------------------------------------------------------

bool LsmEngine::background_work_due() const {
  return imm_ != nullptr || compaction_score(*versions_.current(), options_.compaction) >= 1.0;
}

void LsmEngine::background_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    bg_work_cv_.wait(
        lock, [&] { return shutting_down_ || (bg_error_.is_ok() && background_work_due()); });
    if (shutting_down_) break;
    if (Clock::now() < bg_retry_at_) {
      bg_work_cv_.wait_until(lock, bg_retry_at_);
      continue;
    }
    bg_busy_ = true;
    bg_failed_cleanly_ = false;
    Status status = imm_ != nullptr ? flush_imm(lock) : compact_once(lock);
    bg_busy_ = false;
    if (!status.is_ok() && !shutting_down_) {
      if (bg_failed_cleanly_ && is_no_space(status)) {
        disk_full_ = disk_full(status);
        ++bg_space_failures_;
        bg_retry_at_ = Clock::now() + std::chrono::seconds(1);
      } else {
        bg_error_ = status;
      }
    }
    bg_done_cv_.notify_all();
  }
  bg_done_cv_.notify_all();
}

Status LsmEngine::log_new_tables(VersionEdit* edit) {
  Status status = bg_error_;  // once the engine has failed, nothing more goes to the manifest
  bool may_be_recorded = false;
  if (status.is_ok()) status = versions_.log_and_apply(edit, &may_be_recorded);
  if (!status.is_ok() && !may_be_recorded) discard_added_files(*edit);
  return status;
}

Status LsmEngine::flush_imm(std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<MemTable> imm = imm_;
  uint64_t log_number = wal_number_;  // the WAL that began with the current memtable
  TableEnv env = table_env();
  lock.unlock();
  auto iter = MemTable::new_iterator(imm);
  uint64_t bytes = 0;
  auto file = build_table(iter.get(), env, &bytes);
  Status status = file.status();
  VersionEdit edit;
  if (status.is_ok() && *file != nullptr) {
    edit.added_files.emplace_back(0, *file);
    status = sync_data_dir();  // the table's directory entry, before the manifest names it
  }
  if (!status.is_ok()) discard_added_files(edit);
  lock.lock();
  if (!status.is_ok()) {
    bg_failed_cleanly_ = true;  // the table is deleted and the manifest untouched
    return status;
  }
  edit.log_number = log_number;
  TESSERA_RETURN_IF_ERROR(log_new_tables(&edit));
  disk_full_ = Status::ok();
  flush_bytes_written_ += bytes;
  ++flushes_;
  imm_.reset();
  has_imm_.store(false);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    uint64_t number;
    if (parse_file_name(entry.path().filename().string(), &number) == FileKind::kLog &&
        number < log_number) {
      fs::remove(entry.path(), ec);
    }
  }
  bg_done_cv_.notify_all();
  return Status::ok();
}

Status LsmEngine::compact_once(std::unique_lock<std::mutex>& lock) {
  auto compaction = pick_compaction(versions_.current(), options_.compaction, &compact_pointers_);
  if (!compaction) return Status::ok();
  VersionEdit edit;
  if (compaction->trivial_move()) {
    const auto& file = compaction->inputs[0].front();
    edit.deleted_files.emplace_back(compaction->level, file->number);
    edit.added_files.emplace_back(compaction->level + 1, file);
    return versions_.log_and_apply(&edit);
  }
  SequenceNumber smallest = smallest_snapshot();
  TableEnv env = table_env();
  env.between_keys = [this]() -> Status {
    if (hooks_.compaction_step) hooks_.compaction_step();
    // A frozen memtable waiting behind a long compaction would stall writers: flush it first.
    if (!has_imm_.load()) return Status::ok();
    std::unique_lock inner(mutex_);
    if (!bg_error_.is_ok()) return bg_error_;
    if (imm_ == nullptr) return Status::ok();
    // A failed flush stops the compaction: its result must not reach the manifest either.
    bg_failed_cleanly_ = false;
    Status status = flush_imm(inner);
    if (!status.is_ok() && !(bg_failed_cleanly_ && is_no_space(status))) bg_error_ = status;
    return status;
  };
  lock.unlock();
  CompactionStats stats;
  Status status = run_compaction(*compaction, smallest, env, &edit, &stats);
  // The outputs' directory entries must be durable before the manifest names them: one fsync.
  if (status.is_ok() && !edit.added_files.empty()) status = sync_data_dir();
  if (!status.is_ok()) discard_added_files(edit);
  lock.lock();
  if (!status.is_ok()) {
    bg_failed_cleanly_ = true;  // its outputs are deleted and the manifest untouched
    return shutting_down_ ? Status::ok() : status;
  }
  TESSERA_RETURN_IF_ERROR(log_new_tables(&edit));  // stops here if a flush (or a write) failed
  compaction_bytes_read_ += stats.bytes_read;
  compaction_bytes_written_ += stats.bytes_written;
  ++compactions_;
  return Status::ok();
}

// ---- Reads ------------------------------------------------------------------------------

Result<std::optional<Bytes>> LsmEngine::get(const ReadOptions& options, ByteView key) {
  std::shared_ptr<MemTable> mem, imm;
  std::shared_ptr<const Version> version;
  SequenceNumber sequence;
  {
    std::lock_guard lock(mutex_);
    mem = mem_;
    imm = imm_;
    version = versions_.current();
    sequence = options.snapshot != nullptr
                   ? static_cast<const LsmSnapshot*>(options.snapshot)->sequence()
                   : versions_.last_sequence();
  }
  for (const MemTable* table : {mem.get(), imm.get()}) {
    if (table == nullptr) continue;
    if (auto found = table->get(key, sequence)) {
      if (found->deleted) return std::optional<Bytes>();
      return std::optional<Bytes>(std::move(found->value));
    }
  }
  TESSERA_ASSIGN_OR_RETURN(auto found, version->get(key, sequence, options.memory_only));
  if (!found || found->deleted) return std::optional<Bytes>();
  return std::optional<Bytes>(std::move(found->value));
}

std::unique_ptr<Iterator> LsmEngine::new_iterator(const IteratorOptions& options) {
  std::vector<std::unique_ptr<InternalIterator>> children;
  SequenceNumber sequence;
  std::shared_ptr<const Version> version;
  {
    std::lock_guard lock(mutex_);
    children.push_back(MemTable::new_iterator(mem_));
    if (imm_ != nullptr) children.push_back(MemTable::new_iterator(imm_));
    version = versions_.current();
    sequence = options.snapshot != nullptr
                   ? static_cast<const LsmSnapshot*>(options.snapshot)->sequence()
                   : versions_.last_sequence();
  }
  version->add_iterators(&children, true);
  return new_db_iterator(new_merging_iterator(std::move(children)), sequence, options.upper_bound);
}

std::unique_ptr<Snapshot> LsmEngine::snapshot() {
  std::lock_guard lock(mutex_);
  SequenceNumber sequence = versions_.last_sequence();
  snapshots_.insert(sequence);
  return std::make_unique<LsmSnapshot>(this, sequence);
}

void LsmEngine::release_snapshot(SequenceNumber sequence) {
  std::lock_guard lock(mutex_);
  auto it = snapshots_.find(sequence);
  TESSERA_ASSERT(it != snapshots_.end(), "released a snapshot twice");
  snapshots_.erase(it);
}

SequenceNumber LsmEngine::smallest_snapshot() const {
  return snapshots_.empty() ? versions_.last_sequence() : *snapshots_.begin();
}

Result<uint64_t> LsmEngine::approximate_size(ByteView start, ByteView end) {
  std::shared_ptr<MemTable> mem, imm;
  std::shared_ptr<const Version> version;
  {
    std::lock_guard lock(mutex_);
    mem = mem_;
    imm = imm_;
    version = versions_.current();
  }
  Bytes start_key = make_internal_key(start, kSequenceMax, kValueTypeForSeek);
  Bytes end_key = make_internal_key(end, kSequenceMax, kValueTypeForSeek);
  auto in_range = [&](ByteView user_key) { return end.empty() || user_key < end; };
  uint64_t bytes = 0;
  for (const auto& files : version->levels) {
    for (const auto& f : files) {
      if (!in_range(user_key_of(f->smallest)) || user_key_of(f->largest) < start) continue;
      uint64_t from = f->table->approximate_offset(start_key);
      uint64_t to = end.empty() ? f->file_bytes : f->table->approximate_offset(end_key);
      // A range inside one block has equal offsets; count the block it lies in.
      bytes +=
          to > from ? to - from : std::min<uint64_t>(f->file_bytes, options_.table.block_bytes);
    }
  }
  // Memtables are counted entry by entry: they are bounded by memtable_bytes_max.
  for (const auto& table : {mem, imm}) {
    if (table == nullptr) continue;
    auto iter = MemTable::new_iterator(table);
    for (iter->seek(start_key); iter->valid() && in_range(user_key_of(iter->key())); iter->next()) {
      bytes += iter->key().size() + iter->value().size();
    }
  }
  return bytes;
}

size_t LsmEngine::queued_writers() const {
  std::lock_guard lock(mutex_);
  return writers_.size();
}

std::vector<int> LsmEngine::files_per_level() const {
  auto version = versions_.current();
  std::vector<int> counts;
  for (const auto& files : version->levels) counts.push_back(static_cast<int>(files.size()));
  return counts;
}

EngineStats LsmEngine::stats() {
  std::shared_ptr<const Version> version;
  size_t mem_bytes = 0;
  size_t snapshot_count = 0;
  {
    std::lock_guard lock(mutex_);
    version = versions_.current();
    mem_bytes = mem_->memory_usage() + (imm_ != nullptr ? imm_->memory_usage() : 0);
    snapshot_count = snapshots_.size();
  }
  EngineStats s;
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  uint64_t user = user_bytes_written_.load();
  uint64_t wal = wal_bytes_written_.load();
  uint64_t tables = flush_bytes_written_.load() + compaction_bytes_written_.load();
  s["bytes_written"] = d(user);
  s["wal_bytes_written"] = d(wal);
  s["flush_bytes_written"] = d(flush_bytes_written_.load());
  s["compaction_bytes_read"] = d(compaction_bytes_read_.load());
  s["compaction_bytes_written"] = d(compaction_bytes_written_.load());
  // Bytes the engine wrote to disk (WAL and tables) per byte the user wrote.
  s["write_amplification"] = user > 0 ? d(wal + tables) / d(user) : 0.0;
  uint64_t total = version->total_bytes();
  // Table bytes per byte of live data, estimating live data as the largest run of tables that
  // holds at most one version of each key (Version::largest_run_bytes). Overlapping level-0
  // files count as separate runs: N flushes of the same keys read N, not 1.
  uint64_t run = version->largest_run_bytes();
  s["space_amplification"] = run > 0 ? d(total) / d(run) : 0.0;
  s["table_bytes"] = d(total);
  for (int level = 0; level < kNumLevels; ++level) {
    s["level" + std::to_string(level) + "_files"] = d(version->levels[level].size());
    s["level" + std::to_string(level) + "_bytes"] = d(version->level_bytes(level));
  }
  s["memtable_bytes"] = d(mem_bytes);
  s["block_cache_bytes"] = d(cache_.usage_bytes());
  s["block_cache_hits"] = d(cache_.hits());
  s["block_cache_misses"] = d(cache_.misses());
  s["wal_syncs"] = d(wal_syncs_.load());
  s["write_groups"] = d(write_groups_.load());
  group_sync_.add_stats(&s);
  s["flushes"] = d(flushes_.load());
  s["compactions"] = d(compactions_.load());
  s["write_stalls"] = d(stall_count_.load());
  s["write_stall_micros"] = d(stall_micros_.load());
  s["snapshots"] = d(snapshot_count);
  s["last_sequence"] = d(versions_.last_sequence());
  s["recovered_torn_tail_bytes"] = d(recovered_dropped_bytes_.load());
  return s;
}

}  // namespace tessera::lsm
