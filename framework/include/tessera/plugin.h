// The plugin contract: what a plugin shared library exports.
//
// A plugin is one MODULE shared library that exports exactly one PluginDescriptor under the
// symbol name `tessera_plugin_descriptor`, with TESSERA_EXPORT_PLUGIN(descriptor). The host
// checks, before it calls anything in the library: the ABI version, the kind (engine,
// placement, conflict, membership) against the slot it is loading for, and the config keys
// against the list the plugin declares. Then it calls the factory of that kind.
//
// Rules for plugin authors:
//  - Factories and every method of the objects they make return Status / Result; no exception
//    may leave the library (the factory types are noexcept: an escaping exception terminates).
//  - A factory gets its config section already checked for unknown keys; it still validates
//    values and returns InvalidArgument naming the key (ConfigSection's getters do that).
//  - No global mutable state: everything a plugin object needs lives in the object.
// The host keeps the library loaded for as long as any object it made is alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <boost/dll/alias.hpp>

#include "tessera/config.h"
#include "tessera/status.h"

namespace tessera {

class Engine;
class Placement;
class Conflict;
class Membership;
class ClusterSecret;  // tessera/cluster_secret.h
class PeerDialer;     // framework/schema/peer_dialer.h (tessera_schema)

// Bumped whenever PluginDescriptor or any plugin interface changes incompatibly.
// 3: Membership::peer_service, and the CP changes to ReplicationGroups.
// 4: Location's range id and epoch; Placement::locate_span and choose_replicas.
// 5: Conflict::order_after.
// 6: Placement::list_ranges.
// 7: Engine::sync_async.
// 8: PluginContext::cluster_secret and PluginContext::peer_dialer (authenticated node links).
// 9: NodeInfo::joining, Location::next_owners, Membership::finish_joining and remove.
inline constexpr uint32_t kPluginAbiVersion = 9;

inline constexpr const char* kPluginDescriptorSymbol = "tessera_plugin_descriptor";

enum class PluginKind : uint32_t { kEngine = 1, kPlacement = 2, kConflict = 3, kMembership = 4 };

std::string_view plugin_kind_name(PluginKind kind);

// What the host gives every plugin object it creates.
struct PluginContext {
  std::string node_id;
  // A directory that belongs to this plugin object alone; it exists. Empty for plugins that
  // keep no files.
  std::filesystem::path data_dir;
  // Membership plugins of a distributed node: the cluster's secret, to authenticate what the
  // plugin sends outside the node's RPC links (gossip tags its datagrams with it); null
  // elsewhere. Borrowed: valid while the object the factory makes lives.
  const ClusterSecret* cluster_secret = nullptr;
  // Membership plugins of a distributed node: opens authenticated links to other nodes'
  // PeerLink, from which a plugin reaches its counterpart's peer service (raft). Null
  // elsewhere. Borrowed, like cluster_secret.
  const PeerDialer* peer_dialer = nullptr;
};

struct ConfigKeySpec {
  const char* name;
  const char* description;
};

using EngineFactory = Result<std::unique_ptr<Engine>> (*)(const PluginContext&,
                                                          const ConfigSection&) noexcept;
using PlacementFactory = Result<std::unique_ptr<Placement>> (*)(const PluginContext&,
                                                                const ConfigSection&) noexcept;
using ConflictFactory = Result<std::unique_ptr<Conflict>> (*)(const PluginContext&,
                                                              const ConfigSection&) noexcept;
using MembershipFactory = Result<std::unique_ptr<Membership>> (*)(const PluginContext&,
                                                                  const ConfigSection&) noexcept;

struct PluginDescriptor {
  uint32_t abi_version;  // must stay the first field: the host reads it before anything else
  PluginKind kind;
  const char* name;     // short name, as written in configs ("lsm")
  const char* version;  // the plugin's own version ("1.0.0")
  const char* description;
  const ConfigKeySpec* config_keys;  // the keys of the plugin's config section
  size_t config_key_count;
  // Exactly the factory of `kind` is set; the others are nullptr.
  EngineFactory make_engine = nullptr;
  PlacementFactory make_placement = nullptr;
  ConflictFactory make_conflict = nullptr;
  MembershipFactory make_membership = nullptr;
};

}  // namespace tessera

// Exports `descriptor` (a namespace-scope `const tessera::PluginDescriptor`) as this library's
// plugin. Use once per library.
#define TESSERA_EXPORT_PLUGIN(descriptor) BOOST_DLL_ALIAS(descriptor, tessera_plugin_descriptor)
