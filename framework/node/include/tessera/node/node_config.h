// NodeConfig: the node's settings, read from its TOML file.
//
//   [node]    id, profile ("single", "dynamo" or "leader"), listen ("host:port"), data_dir,
//             log_level, worker_threads, rpc_threads, requests_in_flight_max, connections_max,
//             connections_per_address_max, idle_timeout_ms, request_timeout_ms, sync_writes, tombstone_grace_ms, tombstone_sweep_interval_ms
//   [limits]  key_bytes_max, value_bytes_max, batch_bytes_max, batch_ops_max, scan_items_max,
//             scan_bytes_max
//   [plugins] dirs: extra plugin directories (the installation's own is always searched first)
//   [engine], [conflict], and for the dynamo and leader profiles [placement] and [membership]:
//             plugin = "<name or path>", and the plugin's own keys in a [<slot>.config] table
//   [quorum]  the dynamo profile's section; [leader] the leader profile's (each profile reads
//             its own keys: profile.h)
//   [security] cluster_secret_file (required by the dynamo and leader profiles), tokens_file
//             (required unless the node listens on loopback)
//   [tls]     cert_file, key_file, ca_file: TLS on the client port and the node links
//
// docs/CONFIG.md documents every key. Unknown keys and sections are errors that name the file,
// the line and the key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tessera/config.h"
#include "tls_context.h"
#include "tessera/node/local_store.h"
#include "tessera/status.h"

namespace tessera::node {

struct PluginSlot {
  std::string plugin;    // short name or path
  ConfigSection config;  // the plugin's own keys; borrows from the ConfigFile
};

// The profiles a config may name, and the section each reads its own keys from.
inline constexpr std::string_view kProfileSingle = "single";
inline constexpr std::string_view kProfileDynamo = "dynamo";
inline constexpr std::string_view kProfileLeader = "leader";

struct NodeConfig {
  std::string node_id;
  std::string profile;  // one of the kProfile* names
  std::string listen_host;
  uint16_t listen_port = 0;
  std::filesystem::path data_dir;
  std::string log_level;
  uint32_t worker_threads = 0;
  // Event-loop threads serving client connections, the main loop included (profile.h,
  // Profile::path_for_loop: a profile that cannot serve from other loops uses the main one).
  uint32_t rpc_threads = 1;
  uint32_t requests_in_flight_max = 0;
  uint32_t connections_max = 0;  // client connections open at once; past it one is closed at once
  uint32_t connections_per_address_max = 0;  // likewise from one client address
  uint32_t idle_timeout_ms = 0;              // a connection silent this long is closed; 0: never
  uint32_t request_timeout_ms = 0;
  bool sync_writes = true;
  uint64_t tombstone_grace_ms = 0;
  uint64_t tombstone_sweep_interval_ms = 0;
  std::vector<std::filesystem::path> plugin_dirs;
  StoreLimits limits;
  PluginSlot engine;
  PluginSlot conflict;
  // A distributed profile's placement and membership plugins; neither on a single node.
  std::optional<PluginSlot> placement;
  std::optional<PluginSlot> membership;
  // The file of the secret every node of the cluster shares ([security] cluster_secret_file);
  // required by the distributed profiles, which authenticate their node-to-node links with it.
  std::optional<std::filesystem::path> cluster_secret_file;
  // The file of client tokens ([security] tokens_file, client_tokens.h); without it clients are
  // not authenticated, which only a node listening on loopback accepts (Node::start checks, after
  // the command line's --listen).
  std::optional<std::filesystem::path> tokens_file;
  // [tls]: the node serves TLS only, with this certificate, and dials its peers over TLS,
  // verifying their certificates against the CA. None: plain TCP.
  std::optional<TlsFiles> tls;
  // The profile's own section ([quorum] for dynamo, [leader] for leader; empty for single),
  // parsed by the profile. Borrows from the ConfigFile.
  ConfigSection profile_section;
};

// REQUIRES: the ConfigFile behind `root` outlives the returned config (plugin sections borrow).
Result<NodeConfig> parse_node_config(const ConfigSection& root);

// Splits "host:port"; InvalidArgument naming `what` when malformed.
Status parse_address(std::string_view text, std::string_view what, std::string* host,
                     uint16_t* port);

// OK for trace, debug, info, warn, error and off; otherwise InvalidArgument naming `what` and
// the level. (spdlog would read any other word as "off" and silence the node.)
Status check_log_level(std::string_view level, std::string_view what);

}  // namespace tessera::node
