// RaftConfig: the raft membership plugin's config section, checked.
//
// Every key, its default and its range (README.md lists them too):
//   tick_ms                (50, 1..10000)      one tick of every group's clock
//   election_ticks         (10, 3..10000)      election timeout, drawn from [n, 2n) ticks
//   heartbeat_ticks        (1, 1..9999)        leader heartbeats; < election_ticks
//   apply_threads          (2, 1..64)          threads applying committed entries
//   segment_bytes          (64 MiB, 1 MiB..1 GiB)  size at which the shared log rolls over
//   log_cache_bytes        (64 MiB, 0..16 GiB) recent entries the shared log keeps in memory
//   entry_cache_bytes      (4 MiB, 0..1 GiB)   persisted entries each group's core keeps
//   compact_entries_min    (4096, 1..10^9)     entries past a group's log start before it is
//                                              truncated up to the state machine's durable index
//   peer_queue_bytes       (64 MiB, 1 MiB..4 GiB) messages waiting for one peer before drops
// Thread-safety: plain value.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tessera/config.h"
#include "tessera/status.h"

namespace tessera::raft_plugin {

struct RaftConfig {
  uint32_t tick_ms = 50;
  uint32_t election_ticks = 10;
  uint32_t heartbeat_ticks = 1;
  uint32_t apply_threads = 2;
  uint64_t segment_bytes = uint64_t{64} << 20;
  uint64_t log_cache_bytes = uint64_t{64} << 20;
  uint64_t entry_cache_bytes = uint64_t{4} << 20;
  uint64_t compact_entries_min = 4096;
  uint64_t peer_queue_bytes = uint64_t{64} << 20;
};

// InvalidArgument naming file:line:key for a value out of range or of the wrong type.
Result<RaftConfig> parse_raft_config(const ConfigSection& section);

}  // namespace tessera::raft_plugin
