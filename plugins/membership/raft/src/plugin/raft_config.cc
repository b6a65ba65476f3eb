#include "plugin/raft_config.h"

#include <string>

namespace tessera::raft_plugin {

Result<RaftConfig> parse_raft_config(const ConfigSection& section) {
  constexpr int64_t kMiB = int64_t{1} << 20;
  RaftConfig c;
  TESSERA_ASSIGN_OR_RETURN(int64_t tick_ms, section.get_int("tick_ms", c.tick_ms, 1, 10000));
  TESSERA_ASSIGN_OR_RETURN(int64_t election,
                           section.get_int("election_ticks", c.election_ticks, 3, 10000));
  TESSERA_ASSIGN_OR_RETURN(int64_t heartbeat,
                           section.get_int("heartbeat_ticks", c.heartbeat_ticks, 1, 9999));
  if (heartbeat >= election) {
    return Status::invalid_argument(section.where("heartbeat_ticks") + ": " +
                                    std::to_string(heartbeat) + " must be below election_ticks (" +
                                    std::to_string(election) + ")");
  }
  TESSERA_ASSIGN_OR_RETURN(int64_t apply_threads,
                           section.get_int("apply_threads", c.apply_threads, 1, 64));
  TESSERA_ASSIGN_OR_RETURN(
      int64_t segment,
      section.get_int("segment_bytes", static_cast<int64_t>(c.segment_bytes), kMiB, 1024 * kMiB));
  TESSERA_ASSIGN_OR_RETURN(
      int64_t log_cache, section.get_int("log_cache_bytes", static_cast<int64_t>(c.log_cache_bytes),
                                         0, 16 * 1024 * kMiB));
  TESSERA_ASSIGN_OR_RETURN(
      int64_t entry_cache,
      section.get_int("entry_cache_bytes", static_cast<int64_t>(c.entry_cache_bytes), 0,
                      1024 * kMiB));
  TESSERA_ASSIGN_OR_RETURN(
      int64_t compact, section.get_int("compact_entries_min",
                                       static_cast<int64_t>(c.compact_entries_min), 1, 1000000000));
  TESSERA_ASSIGN_OR_RETURN(
      int64_t peer_queue,
      section.get_int("peer_queue_bytes", static_cast<int64_t>(c.peer_queue_bytes), kMiB,
                      4096 * kMiB));
  c.tick_ms = static_cast<uint32_t>(tick_ms);
  c.election_ticks = static_cast<uint32_t>(election);
  c.heartbeat_ticks = static_cast<uint32_t>(heartbeat);
  c.apply_threads = static_cast<uint32_t>(apply_threads);
  c.segment_bytes = static_cast<uint64_t>(segment);
  c.log_cache_bytes = static_cast<uint64_t>(log_cache);
  c.entry_cache_bytes = static_cast<uint64_t>(entry_cache);
  c.compact_entries_min = static_cast<uint64_t>(compact);
  c.peer_queue_bytes = static_cast<uint64_t>(peer_queue);
  return c;
}

}  // namespace tessera::raft_plugin
