#include "options.h"

#include <array>

namespace tessera::lsm {
namespace {

constexpr std::array kConfigKeys = {
    ConfigKeySpec{"memtable_bytes_max",
                  "bytes of a memtable before it is frozen and flushed (default 64 MiB)"},
    ConfigKeySpec{"block_cache_bytes_max", "bytes of decoded data blocks cached (default 64 MiB)"},
    ConfigKeySpec{"block_bytes", "target size of an SSTable data block (default 4096)"},
    ConfigKeySpec{"block_restart_interval",
                  "keys between full keys in a block (prefix compression; default 16)"},
    ConfigKeySpec{"bloom_bits_per_key", "bloom filter bits per key (default 10, ~1% false hits)"},
    ConfigKeySpec{"compression", "block compression: \"none\" (default) or \"zstd\""},
    ConfigKeySpec{"zstd_level", "zstd level when compression = \"zstd\" (default 1)"},
    ConfigKeySpec{"wal_sync",
                  "\"on_request\" (default: fsync when a write or sync() asks), \"always\", "
                  "\"none\" (never fsync)"},
    ConfigKeySpec{"group_commit_window_us",
                  "microseconds a syncing write leader waits for more writers (default 0)"},
    ConfigKeySpec{"l0_compaction_trigger", "level-0 files that start a compaction (default 4)"},
    ConfigKeySpec{"l0_slowdown_trigger", "level-0 files that delay each write 1 ms (default 8)"},
    ConfigKeySpec{"l0_stop_trigger", "level-0 files that stop writes (default 12)"},
    ConfigKeySpec{"level_base_bytes", "target bytes of level 1 (default 256 MiB)"},
    ConfigKeySpec{"level_size_multiplier", "each level is this much bigger (default 10)"},
    ConfigKeySpec{"target_file_bytes", "target size of a compaction output (default 64 MiB)"},
};

}  // namespace

std::span<const ConfigKeySpec> lsm_config_keys() { return kConfigKeys; }

Result<LsmOptions> LsmOptions::from_config(const ConfigSection& config) {
  LsmOptions o;
  constexpr int64_t kMiB = 1 << 20;
  TESSERA_ASSIGN_OR_RETURN(int64_t memtable,
                           config.get_int("memtable_bytes_max", 64 * kMiB, 64 << 10, 4096 * kMiB));
  o.memtable_bytes_max = static_cast<size_t>(memtable);
  TESSERA_ASSIGN_OR_RETURN(int64_t cache,
                           config.get_int("block_cache_bytes_max", 64 * kMiB, 0, INT64_MAX));
  o.block_cache_bytes_max = static_cast<size_t>(cache);
  TESSERA_ASSIGN_OR_RETURN(int64_t block, config.get_int("block_bytes", 4096, 256, 4 * kMiB));
  o.table.block_bytes = static_cast<size_t>(block);
  TESSERA_ASSIGN_OR_RETURN(int64_t restart, config.get_int("block_restart_interval", 16, 1, 1024));
  o.table.restart_interval = static_cast<int>(restart);
  TESSERA_ASSIGN_OR_RETURN(int64_t bloom, config.get_int("bloom_bits_per_key", 10, 1, 64));
  o.table.bloom_bits_per_key = static_cast<int>(bloom);
  TESSERA_ASSIGN_OR_RETURN(std::string compression, config.get_string("compression", "none"));
  if (compression == "none") {
    o.table.compression = Compression::kNone;
  } else if (compression == "zstd") {
    o.table.compression = Compression::kZstd;
  } else {
    return Status::invalid_argument(config.where("compression") +
                                    ": expected \"none\" or \"zstd\"");
  }
  TESSERA_ASSIGN_OR_RETURN(int64_t zstd_level, config.get_int("zstd_level", 1, -7, 22));
  o.table.zstd_level = static_cast<int>(zstd_level);
  TESSERA_ASSIGN_OR_RETURN(std::string sync, config.get_string("wal_sync", "on_request"));
  if (sync == "on_request") {
    o.wal_sync = WalSync::kOnRequest;
  } else if (sync == "always") {
    o.wal_sync = WalSync::kAlways;
  } else if (sync == "none") {
    o.wal_sync = WalSync::kNone;
  } else {
    return Status::invalid_argument(config.where("wal_sync") +
                                    ": expected \"on_request\", \"always\" or \"none\"");
  }
  TESSERA_ASSIGN_OR_RETURN(int64_t window, config.get_int("group_commit_window_us", 0, 0, 100000));
  o.group_commit_window_us = static_cast<uint64_t>(window);
  TESSERA_ASSIGN_OR_RETURN(int64_t l0_trigger, config.get_int("l0_compaction_trigger", 4, 1, 64));
  o.compaction.l0_compaction_trigger = static_cast<int>(l0_trigger);
  TESSERA_ASSIGN_OR_RETURN(int64_t slowdown, config.get_int("l0_slowdown_trigger", 8, 1, 256));
  o.l0_slowdown_trigger = static_cast<int>(slowdown);
  TESSERA_ASSIGN_OR_RETURN(int64_t stop, config.get_int("l0_stop_trigger", 12, 1, 256));
  o.l0_stop_trigger = static_cast<int>(stop);
  if (!(l0_trigger <= slowdown && slowdown <= stop)) {
    return Status::invalid_argument(
        config.where() + ": need l0_compaction_trigger <= l0_slowdown_trigger <= l0_stop_trigger");
  }
  TESSERA_ASSIGN_OR_RETURN(int64_t base,
                           config.get_int("level_base_bytes", 256 * kMiB, 64 << 10, INT64_MAX));
  o.compaction.level_base_bytes = static_cast<uint64_t>(base);
  TESSERA_ASSIGN_OR_RETURN(int64_t multiplier, config.get_int("level_size_multiplier", 10, 2, 100));
  o.compaction.level_size_multiplier = static_cast<int>(multiplier);
  TESSERA_ASSIGN_OR_RETURN(int64_t target,
                           config.get_int("target_file_bytes", 64 * kMiB, 16 << 10, 4096 * kMiB));
  o.compaction.target_file_bytes = static_cast<uint64_t>(target);
  return o;
}

}  // namespace tessera::lsm
