// The `gossip` membership plugin: its config keys, their checks, and the descriptor.
#include <iterator>
#include <memory>

#include "gossip_membership.h"
#include "host_port.h"
#include "tessera/plugin.h"

namespace tessera::gossip {
namespace {

constexpr ConfigKeySpec kConfigKeys[] = {
    {"seeds",
     "array of \"host:port\" gossip addresses to join through (default empty: this node starts "
     "a cluster; at most 64)"},
    {"tick_ms", "the gossip tick in milliseconds (default 100, 1..10000)"},
    {"probe_interval_ticks", "ticks between two failure-detector probes (default 5, 3..1000)"},
    {"suspicion_ticks",
     "ticks a suspect has to refute before it is dead (default 30, 1..100000)"},
};

Result<GossipConfig> parse_config(const ConfigSection& section) {
  GossipConfig config;
  TESSERA_ASSIGN_OR_RETURN(config.seeds, section.get_string_list("seeds"));
  if (config.seeds.size() > GossipConfig::kSeedsMax) {
    return Status::invalid_argument(section.where("seeds") + ": " +
                                    std::to_string(config.seeds.size()) + " seeds, at most " +
                                    std::to_string(GossipConfig::kSeedsMax));
  }
  for (const std::string& seed : config.seeds) {
    if (!parse_host_port(seed)) {
      return Status::invalid_argument(section.where("seeds") + ": '" + seed +
                                      "' is not host:port with a port in [1, 65535]");
    }
  }
  TESSERA_ASSIGN_OR_RETURN(int64_t tick_ms, section.get_int("tick_ms", 100, 1, 10000));
  // probe_timeout_ticks stays at the core's 2, which the probe interval must exceed.
  TESSERA_ASSIGN_OR_RETURN(int64_t probe_interval,
                           section.get_int("probe_interval_ticks", 5, 3, 1000));
  TESSERA_ASSIGN_OR_RETURN(int64_t suspicion, section.get_int("suspicion_ticks", 30, 1, 100000));
  config.tick_ms = static_cast<uint32_t>(tick_ms);
  config.probe_interval_ticks = static_cast<uint32_t>(probe_interval);
  config.suspicion_ticks = static_cast<uint32_t>(suspicion);
  return config;
}

Result<std::unique_ptr<Membership>> make_gossip(const PluginContext& context,
                                                const ConfigSection& section) noexcept {
  try {
    TESSERA_ASSIGN_OR_RETURN(GossipConfig config, parse_config(section));
    config.secret = context.cluster_secret;
    return make_gossip_membership(std::move(config));
  } catch (...) {
    return Status::internal("gossip: cannot read the config: unexpected exception");
  }
}

}  // namespace

extern const PluginDescriptor gossip_descriptor;
const PluginDescriptor gossip_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kMembership,
    .name = "gossip",
    .version = "1.0.0",
    .description = "SWIM gossip membership and failure detection over UDP on the node's address",
    .config_keys = kConfigKeys,
    .config_key_count = std::size(kConfigKeys),
    .make_membership = make_gossip,
};

}  // namespace tessera::gossip

TESSERA_EXPORT_PLUGIN(tessera::gossip::gossip_descriptor)
