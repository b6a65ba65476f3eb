// The `raft` membership plugin: its config keys, their checks, and the descriptor.
#include <iterator>
#include <memory>

#include "plugin/raft_config.h"
#include "plugin/raft_groups.h"
#include "plugin/raft_membership.h"
#include "tessera/plugin.h"

namespace tessera::raft_plugin {
namespace {

constexpr ConfigKeySpec kConfigKeys[] = {
    {"tick_ms", "one tick of every group's clock, in milliseconds (default 50, 1..10000)"},
    {"election_ticks", "election timeout in ticks, drawn from [n, 2n) (default 10, 3..10000)"},
    {"heartbeat_ticks", "ticks between leader heartbeats, below election_ticks (default 1)"},
    {"apply_threads", "threads applying committed entries to state machines (default 2, 1..64)"},
    {"segment_bytes", "size at which the shared raft log starts a new segment (default 64 MiB)"},
    {"log_cache_bytes", "recent entries the shared log keeps in memory (default 64 MiB)"},
    {"entry_cache_bytes", "persisted entries each group's core keeps in memory (default 4 MiB)"},
    {"compact_entries_min",
     "entries past a group's log start before the log is truncated to the state machine's "
     "durable index (default 4096)"},
    {"peer_queue_bytes", "messages waiting for one peer before they are dropped (default 64 MiB)"},
};

Result<std::unique_ptr<Membership>> make_raft(const PluginContext& context,
                                              const ConfigSection& section) noexcept {
  try {
    TESSERA_ASSIGN_OR_RETURN(RaftConfig config, parse_raft_config(section));
    if (context.data_dir.empty()) {
      return Status::invalid_argument(
          "raft: the host gave no data directory; the raft log must live on the node's disk");
    }
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<RaftGroups> groups,
                             RaftGroups::open(context.node_id, context.data_dir, config,
                                              context.peer_dialer));
    return std::unique_ptr<Membership>(new RaftMembership(std::move(groups)));
  } catch (const std::exception& e) {
    return Status::internal(std::string("raft: cannot start: ") + e.what());
  } catch (...) {
    return Status::internal("raft: cannot start: unexpected exception");
  }
}

}  // namespace

extern const PluginDescriptor raft_descriptor;
const PluginDescriptor raft_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kMembership,
    .name = "raft",
    .version = "1.0.0",
    .description = "Raft replication groups on one shared log per node, over Cap'n Proto",
    .config_keys = kConfigKeys,
    .config_key_count = std::size(kConfigKeys),
    .make_membership = make_raft,
};

}  // namespace tessera::raft_plugin

TESSERA_EXPORT_PLUGIN(tessera::raft_plugin::raft_descriptor)
