// LsmEngine: the log-structured merge-tree engine (the `lsm` plugin).
//
// Write path: a writer joins a queue; the writer at the front (the leader) takes the batches
// queued behind it (up to kGroupBytesMax), gives them consecutive sequence numbers, appends them
// to the WAL as one record, fsyncs once if any of them asked for it, inserts them into the
// memtable and wakes the others (group commit, after LevelDB's DBImpl::Write). A full memtable is
// frozen (immutable) and a new WAL begins; the background thread writes the frozen memtable to a
// level-0 table, records it in the manifest and deletes the old WAL.
//
// Read path: memtable, frozen memtable, then tables level by level (bloom filter first), at the
// sequence of the read's snapshot (or the latest). Iterators merge all sources at a fixed
// sequence and hold every source they read alive.
//
// Background: one thread flushes frozen memtables (first) and runs leveled compactions
// (compaction.h). Writers are delayed 1 ms each once level 0 reaches l0_slowdown_trigger files
// and wait once it reaches l0_stop_trigger or while a frozen memtable is still being flushed.
//
// Errors: a failed WAL or manifest write, flush or compaction makes the engine refuse later
// writes with that error (bg_error_; state on disk is unknown) and stops background work: no
// edit reaches the manifest after it, and a running compaction stops before recording its
// result. Reads continue. A version edit changes in-memory state only once it is durable
// (VersionSet::log_and_apply); tables of a failed edit are deleted unless its record may have
// reached the manifest.
//
// A full disk (ENOSPC, EDQUOT) is not such an error where nothing reached a file: a WAL append
// that failed while growing the file's zero-filled region, or a flush or compaction that could
// not write its table (deleted, the manifest untouched). The write gets an IOError saying the
// disk is full, later writes try again, background work retries every second, and reads go on;
// the first write or flush that succeeds ends it. An open on a full disk that cannot write the
// table of its replayed WALs keeps their entries in the memtable instead and serves reads; the
// first write after space returns starts a new WAL and flushes them (read_only_).
// Thread-safety: every Engine method may be called concurrently. Lock order: mutex_ before the
// block cache's shard mutexes and VersionSet's current-pointer mutex.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "block_cache.h"
#include "compaction.h"
#include "memtable.h"
#include "options.h"
#include "tessera/engine.h"
#include "tessera/group_sync.h"
#include "test_hooks.h"
#include "version_set.h"
#include "wal_reader.h"
#include "wal_writer.h"

namespace tessera::lsm {

using Clock = std::chrono::steady_clock;

class LsmEngine final : public Engine {
 public:
  // Opens (creating if empty) the engine in `dir`, replaying the manifest and the WALs.
  // Busy when another engine holds the directory; Corruption naming the file (and offset) on bad
  // bytes. Only the newest WAL may end in a torn record (see recover()). `hooks` are for tests
  // (test_hooks.h); the plugin passes none.
  static Result<std::unique_ptr<LsmEngine>> open(const fs::path& dir, const LsmOptions& options,
                                                 TestHooks hooks = {});
  ~LsmEngine() override;

  Result<std::optional<Bytes>> get(const ReadOptions& options, ByteView key) override;
  Status write(const WriteOptions& options, const WriteBatch& batch) override;
  std::unique_ptr<Iterator> new_iterator(const IteratorOptions& options) override;
  std::unique_ptr<Snapshot> snapshot() override;
  Status sync() override;
  void sync_async(SyncCallback done) override { group_sync_.submit(std::move(done)); }
  Result<uint64_t> approximate_size(ByteView start, ByteView end) override;
  EngineStats stats() override;

  // Freezes the memtable (if it has entries) and waits until it is flushed, or a try to flush
  // it failed for want of space (then returns that error). For tests and tools.
  Status flush();
  // Waits until no flush or compaction is due or running (or the background work has failed,
  // and stopped: then returns that error). For tests and tools.
  Status wait_for_compactions();
  // Files per level of the current version.
  std::vector<int> files_per_level() const;
  // Writers in the write queue, the leader included. For tests (safe from a commit_window hook).
  size_t queued_writers() const;

 private:
  struct Writer;
  class LsmSnapshot;

  LsmEngine(fs::path dir, const LsmOptions& options, TestHooks hooks);
  Status recover();
  // Replays one WAL into `mem`, writing a table to `edit` whenever `mem` is full, unless
  // `keep_in_memory` (an open on a full disk).
  // `valid_bytes`, when given, gets the offset where the last good record ends.
  Status replay_log(const fs::path& path, TailPolicy policy, std::shared_ptr<MemTable>* mem,
                    VersionEdit* edit, SequenceNumber* max_sequence, bool keep_in_memory,
                    uint64_t* valid_bytes = nullptr);
  // recover() after its replay, or nothing written: serve reads from `mem` and the old WALs.
  Status recover_read_only(std::shared_ptr<MemTable> mem, SequenceNumber max_sequence,
                           const Status& cause);
  // The IOError a write gets while the disk is full, naming the cause.
  Status disk_full(const Status& cause) const;
  // read_only_: starts a new WAL and hands the recovered memtable to the background flush, at
  // most once a second; else disk_full_. REQUIRES: mutex_ held.
  Status leave_read_only();
  // fsync of the data directory, so that files created in it survive a machine crash.
  Status sync_data_dir();
  // Deletes the tables `edit` adds (new ones, in no version) once no open can see the edit.
  static void discard_added_files(const VersionEdit& edit);
  // Records `edit`, which adds newly written tables, unless a background error is set; on
  // failure deletes those tables unless a later open may still see the edit.
  // REQUIRES: mutex_ held; the tables' directory entries are synced.
  Status log_new_tables(VersionEdit* edit);
  void remove_obsolete_files();
  Status write_writer(Writer* w);
  // fdatasync of the current WAL beside the write queue, not in it: appends go on while it
  // runs (GroupSync's sync). Earlier WALs were synced when they were left (switch_memtable).
  Status sync_wal_beside_writers();
  const WriteBatch* build_group(Writer* leader, WriteBatch* storage, Writer** last_writer,
                                bool* need_sync);
  Status make_room_for_write(std::unique_lock<std::mutex>& lock, bool force);
  // Whether a write fits now with no stall and no memtable switch. REQUIRES: mutex_ held.
  bool room_without_waiting() const;
  Status switch_memtable();
  void background_loop();
  bool background_work_due() const;
  Status flush_imm(std::unique_lock<std::mutex>& lock);
  Status compact_once(std::unique_lock<std::mutex>& lock);
  void release_snapshot(SequenceNumber sequence);
  SequenceNumber smallest_snapshot() const;
  TableEnv table_env();

  const fs::path dir_;
  const LsmOptions options_;
  const TestHooks hooks_;
  std::unique_ptr<DirLock> dir_lock_;
  BlockCache cache_;
  VersionSet versions_;

  mutable std::mutex mutex_;
  std::condition_variable bg_work_cv_;  // wakes the background thread
  std::condition_variable bg_done_cv_;  // background progress: wakes stalled writers
  std::deque<Writer*> writers_;
  std::shared_ptr<MemTable> mem_;
  std::shared_ptr<MemTable> imm_;
  std::atomic<bool> has_imm_{false};
  std::unique_ptr<WalWriter> wal_;
  uint64_t wal_number_ = 0;
  std::multiset<SequenceNumber> snapshots_;
  std::array<Bytes, kNumLevels> compact_pointers_;
  Status bg_error_;
  // The disk is full (see the top): what a write that needs space gets, until a write, flush or
  // compaction succeeds. (mutex_)
  Status disk_full_;
  bool read_only_ = false;                  // opened on a full disk; no WAL yet (mutex_)
  Clock::time_point leave_read_only_at_{};  // read_only_: the next try to leave (mutex_)
  Clock::time_point bg_retry_at_{};         // background work waits until then (mutex_)
  bool bg_failed_cleanly_ = false;  // the last background failure wrote nothing lasting (mutex_)
  uint64_t bg_space_failures_ = 0;  // background tries that failed for space (mutex_)
  bool bg_busy_ = false;
  bool shutting_down_ = false;
  std::atomic<bool> shutting_down_flag_{false};
  std::thread bg_thread_;
  // WAL syncs of sync_wal_beside_writers() running; switch_memtable waits for none before it
  // closes the WAL they sync. (mutex_)
  int wal_syncs_running_ = 0;
  std::condition_variable wal_sync_done_cv_;

  // Counters for stats(); atomics so that stats() needs no lock for them.
  std::atomic<uint64_t> user_bytes_written_{0};
  std::atomic<uint64_t> wal_bytes_written_{0};
  std::atomic<uint64_t> wal_syncs_{0};
  std::atomic<uint64_t> write_groups_{0};
  std::atomic<uint64_t> flush_bytes_written_{0};
  std::atomic<uint64_t> compaction_bytes_read_{0};
  std::atomic<uint64_t> compaction_bytes_written_{0};
  std::atomic<uint64_t> compactions_{0};
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> stall_count_{0};
  std::atomic<uint64_t> stall_micros_{0};
  std::atomic<uint64_t> recovered_dropped_bytes_{0};

  // Last member: destroyed (stopped) first, before what its syncs use.
  GroupSync group_sync_{[this] { return sync_wal_beside_writers(); }};
};

// Wraps an internal iterator as the engine's user-facing iterator at `sequence`.
std::unique_ptr<Iterator> new_db_iterator(std::unique_ptr<InternalIterator> internal,
                                          SequenceNumber sequence,
                                          std::optional<Bytes> upper_bound);

}  // namespace tessera::lsm
