// LsmOptions: every tunable of the LSM engine, read from the plugin's config section. The keys,
// their defaults and meaning are listed once, in kConfigKeys (options.cc), which is also what
// the plugin descriptor declares to the host.
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <span>

#include "compaction.h"
#include "table_format.h"
#include "tessera/config.h"
#include "tessera/plugin.h"

namespace tessera::lsm {

enum class WalSync {
  kOnRequest,  // fsync when a write asks for it (WriteOptions::sync) or sync() is called
  kAlways,     // fsync every write, as if every write asked
  kNone,       // never fsync: survives a process crash, not a machine crash; sync() is a no-op
};

struct LsmOptions {
  size_t memtable_bytes_max = 64ull << 20;
  size_t block_cache_bytes_max = 64ull << 20;
  TableOptions table;
  CompactionOptions compaction;
  WalSync wal_sync = WalSync::kOnRequest;
  // A write leader that will fsync first waits this long for more writers to join its group.
  uint64_t group_commit_window_us = 0;
  int l0_slowdown_trigger = 8;  // each write is delayed 1 ms once level 0 has this many files
  int l0_stop_trigger = 12;     // writes wait for compaction once level 0 has this many files

  // InvalidArgument naming the key for a bad value. Unknown keys were refused by the host.
  static Result<LsmOptions> from_config(const ConfigSection& config);
};

std::span<const ConfigKeySpec> lsm_config_keys();

}  // namespace tessera::lsm
