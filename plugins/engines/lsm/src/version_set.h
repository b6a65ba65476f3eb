// Version: an immutable snapshot of the live file set, level by level.
// VersionSet: the current Version, the manifest that records it, and the engine's counters that
// live in the manifest (next file number, log number, last sequence).
//
// Level 0 holds flushed memtables, which may overlap; newest first. Levels 1..6 hold files with
// disjoint key ranges, sorted by key; a user key never spans two files of one level (compaction
// cuts outputs only between user keys), so the newest version of a key is always in the
// shallowest level that has it.
//
// Thread-safety: a Version is immutable and shared (std::shared_ptr) by readers. VersionSet's
// mutating methods are called with the engine mutex held (see db.h); current() and
// last_sequence() may be called without it.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <vector>

#include "manifest.h"
#include "test_hooks.h"
#include "wal_writer.h"

namespace tessera::lsm {

using FileList = std::vector<std::shared_ptr<FileMeta>>;

class Version {
 public:
  std::array<FileList, kNumLevels> levels;

  // The newest entry of user_key with sequence <= snapshot in the tables; nullopt if none.
  Result<std::optional<TableReader::Lookup>> get(ByteView user_key, SequenceNumber snapshot,
                                                 bool memory_only = false) const;
  // One iterator per level-0 file and one per deeper non-empty level.
  void add_iterators(std::vector<std::unique_ptr<InternalIterator>>* out, bool fill_cache) const;
  // Files of `level` whose user-key range meets [smallest, largest] (user keys).
  FileList overlapping(int level, ByteView smallest, ByteView largest) const;
  uint64_t level_bytes(int level) const;
  uint64_t total_bytes() const;
  // Bytes of the largest set of tables no two of which can hold the same user key: one level
  // >= 1, or the level-0 files with pairwise disjoint key ranges that add up to the most bytes.
  // Such a set holds at most one version of each of its keys, so its size estimates the bytes
  // of live data (from below, but for deletions not yet compacted away). O(n log n) in the
  // level-0 files.
  uint64_t largest_run_bytes() const;
};

// Concatenates the (disjoint, sorted) files of one level >= 1, opening one table at a time.
std::unique_ptr<InternalIterator> new_level_iterator(FileList files, bool fill_cache);

class VersionSet {
 public:
  // hooks: borrowed for the VersionSet's lifetime; nullptr for none.
  VersionSet(fs::path dir, BlockCache* cache, const TestHooks* hooks = nullptr);

  // Loads CURRENT and its manifest and opens every live table. A new, empty directory is a new
  // engine. Corruption (naming the file) on a bad manifest, a missing or bad table, or a
  // directory with data but no CURRENT.
  Status recover();

  // Appends `edit` to the manifest and syncs it; only then applies it: installs the new version,
  // raises log_number() and last_sequence() to the edit's, and marks the files it removes
  // obsolete. The first call after recover(), and every call after a failed one, writes a fresh
  // manifest (full snapshot + edit) and points CURRENT at it. Fills in the edit's
  // next_file_number, and its last_sequence if unset (from last_sequence()).
  // On error nothing of the edit is applied, and *may_be_recorded (if given) says whether the
  // whole record reached the manifest file (the sync or the CURRENT switch failed): a later open
  // may then see the edit, so the files it adds must be kept. When false, no open will see the
  // edit and its added files may be deleted.
  // The file-number allocator (new_file_number) is not part of an edit: it only moves forward, so
  // numbers taken for a failed edit are not reused while the engine runs, and the manifest's
  // next_file_number is a lower bound that recovery raises past every file an open reads (live
  // tables, the manifest, WALs to replay); files it does not read are deleted at open.
  // REQUIRES: engine mutex held; added files have their table open.
  Status log_and_apply(VersionEdit* edit, bool* may_be_recorded = nullptr);

  std::shared_ptr<const Version> current() const {
    std::lock_guard lock(current_mutex_);
    return current_;
  }
  uint64_t new_file_number() { return next_file_number_++; }
  uint64_t log_number() const { return log_number_; }
  uint64_t manifest_number() const { return manifest_number_; }
  SequenceNumber last_sequence() const { return last_sequence_.load(std::memory_order_acquire); }
  void set_last_sequence(SequenceNumber s) { last_sequence_.store(s, std::memory_order_release); }

 private:
  Status write_snapshot(WalWriter* writer) const;
  void install(std::shared_ptr<const Version> version);

  const fs::path dir_;
  BlockCache* const cache_;
  const TestHooks* const hooks_;
  mutable std::mutex current_mutex_;  // guards the current_ pointer only
  std::shared_ptr<const Version> current_;
  std::unique_ptr<WalWriter> manifest_;
  uint64_t manifest_number_ = 0;
  uint64_t next_file_number_ = 2;
  uint64_t log_number_ = 0;
  std::atomic<SequenceNumber> last_sequence_{0};
};

// Applies an edit to a copy of `base`. Corruption if it deletes a file `base` does not have.
Result<std::shared_ptr<Version>> apply_edit(const Version& base, const VersionEdit& edit);

}  // namespace tessera::lsm
