// TestHooks: fault points and pauses that let a unit test drive the engine into states that
// timing alone reaches rarely (a manifest write failing inside a compaction, a write leader held
// while followers queue).
//
// Not a config key: only code that calls LsmEngine::open() directly can set them; the plugin never
// does. Every hook is empty by default, and each is consulted off the write hot path: once per
// manifest record, per directory fsync, per 1024 compaction input entries, or per syncing write
// leader (which is about to fsync anyway).
// Thread-safety: hooks are called from the engine's threads (writers and the background thread),
// concurrently; they must be thread-safe and must not call back into the engine, except for the
// methods documented as safe below.
#pragma once

#include <filesystem>
#include <functional>

#include "tessera/status.h"

namespace tessera::lsm {

struct VersionEdit;

struct TestHooks {
  // Called with the engine mutex held just before a manifest record carrying `edit` is written
  // (after the snapshot record of a fresh manifest). A non-OK status fails that write as if the
  // write() call had failed: nothing of the record reaches the file.
  std::function<Status(const VersionEdit& edit)> before_manifest_write;
  // Called after each fsync of the data directory (a WAL or tables were created).
  std::function<void()> after_dir_sync;
  // Called by a write leader whose group will fsync, without the engine mutex, in place of the
  // group_commit_window_us sleep; writers that arrive meanwhile queue behind it. May call
  // LsmEngine::queued_writers().
  std::function<void()> commit_window;
  // Called by a running compaction between input entries (every 1024), without the engine
  // mutex, before it checks for a frozen memtable to flush.
  std::function<void()> compaction_step;
  // Called before a WAL or table file grows (not the manifest); a non-OK status fails that
  // append with nothing written, as a full disk would.
  std::function<Status(const std::filesystem::path& file)> before_file_grows;
};

}  // namespace tessera::lsm
