// Compaction: leveled. Picks which files to merge, merges them, and writes the output tables;
// also builds the level-0 table of a memtable flush.
//
// Picking: level 0 scores (file count / l0_compaction_trigger), level n >= 1 scores
// (bytes / (level_base_bytes * level_size_multiplier^(n-1))). The highest score >= 1 wins.
// Level 0 compacts all its files with the overlapping level-1 files; level n compacts one file,
// chosen round-robin through the key space, with the overlapping files of level n+1. One input
// file and nothing to merge with is moved down without rewriting it.
//
// Merging drops, for each user key:
//  - every version older than a newer one that all snapshots can see (newer.sequence <=
//    smallest_snapshot), and
//  - a deletion that all snapshots can see when no deeper level holds the key (the tombstone
//    has nothing left to hide).
// Outputs are cut at target_file_bytes, only between distinct user keys.
//
// Thread-safety: run by the engine's one background thread; pick_compaction() under the engine
// mutex, run_compaction() and build_table() without it.
#pragma once

#include <array>
#include <functional>
#include <optional>

#include "version_set.h"

namespace tessera::lsm {

struct CompactionOptions {
  int l0_compaction_trigger = 4;
  uint64_t level_base_bytes = 256ull << 20;
  int level_size_multiplier = 10;
  uint64_t target_file_bytes = 64ull << 20;
};

struct Compaction {
  int level = 0;  // inputs[0] from `level`, inputs[1] from level + 1
  std::array<FileList, 2> inputs;
  std::shared_ptr<const Version> version;
  bool trivial_move() const { return inputs[0].size() == 1 && inputs[1].empty(); }
};

// The highest level score of `version` (>= 1 means a compaction is due).
double compaction_score(const Version& version, const CompactionOptions& options);

// REQUIRES: compact_pointers has one entry per level (largest user key compacted last).
std::optional<Compaction> pick_compaction(std::shared_ptr<const Version> version,
                                          const CompactionOptions& options,
                                          std::array<Bytes, kNumLevels>* compact_pointers);

// What compactions and flushes need from the engine.
struct TableEnv {
  fs::path dir;
  TableOptions table;
  uint64_t target_file_bytes = 64ull << 20;
  BlockCache* cache = nullptr;
  std::function<uint64_t()> new_file_number;  // safe to call without the engine mutex
  // Called between input entries (every 1024; e.g. to flush a waiting memtable first); a
  // non-OK status stops the compaction with it. May be empty.
  std::function<Status()> between_keys;
  std::function<bool()> shutting_down;
  GrowHook grow;  // TestHooks::before_file_grows for the tables written; may be empty
};

struct CompactionStats {
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t entries_dropped = 0;
};

// Writes every entry of `iter` to one new level-0 table, synced and opened. nullptr (no file)
// when the iterator is empty.
Result<std::shared_ptr<FileMeta>> build_table(InternalIterator* iter, const TableEnv& env,
                                              uint64_t* bytes_written);

// Merges the inputs of `compaction` into new tables of level + 1 and fills `edit` with the
// change. On error, outputs written so far are deleted.
Status run_compaction(const Compaction& compaction, SequenceNumber smallest_snapshot,
                      const TableEnv& env, VersionEdit* edit, CompactionStats* stats);

}  // namespace tessera::lsm
