#include "tessera/node/node_config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <thread>

#include "tessera/engine.h"
#include "tessera/plugin_loader.h"

namespace tessera::node {
namespace {

constexpr std::array<std::string_view, 11> kRootKeys = {
    "node",       "limits", "plugins", "engine",   "conflict", "placement",
    "membership", "quorum", "leader",  "security", "tls"};
// Each profile and the section of its own keys ("" for none).
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kProfiles = {
    std::pair{kProfileSingle, std::string_view()}, std::pair{kProfileDynamo, "quorum"},
    std::pair{kProfileLeader, "leader"}};
constexpr std::array<std::string_view, 15> kNodeKeys = {
    "id", "profile", "listen", "data_dir", "log_level", "worker_threads", "rpc_threads",
    "requests_in_flight_max",
    "connections_max", "connections_per_address_max", "idle_timeout_ms",
    "request_timeout_ms", "sync_writes", "tombstone_grace_ms", "tombstone_sweep_interval_ms"};
// Ten days, as Cassandra's gc_grace_seconds: longer than any hint or repair should take.
constexpr int64_t kTombstoneGraceDefaultMs = 10LL * 24 * 3600 * 1000;
constexpr std::array<std::string_view, 6> kLimitKeys = {
    "key_bytes_max", "value_bytes_max", "batch_bytes_max", "batch_ops_max", "scan_items_max",
    "scan_bytes_max"};
// Every request and every answer travels as one Cap'n Proto message, which the RPC layer
// refuses past 64 MiB (ReaderOptions::traversalLimitInWords) by dropping the connection. A limit
// above these bounds would turn a request over it into a broken connection instead of TooLarge,
// or make an answer the client cannot read. Worst cases: a put (key and value); a batch (its
// bytes and the framing of each operation); a scan page (its bytes, all the versions of the key
// that crossed scan_bytes_max, and the framing of each item); a get (one key's versions).
constexpr int64_t kRpcMessageBytesMax = int64_t{64} << 20;
constexpr int64_t kFraming = kRpcFramingBytesPerItem;
constexpr int64_t kVersionsBytesMax = StoreLimits{}.versions_bytes_max;
constexpr int64_t kKeyBytesMaxMax = int64_t{1} << 20;
constexpr int64_t kValueBytesMaxMax = int64_t{32} << 20;
constexpr int64_t kBatchBytesMaxMax = int64_t{32} << 20;
constexpr int64_t kBatchOpsMaxMax = 100'000;
constexpr int64_t kScanItemsMaxMax = 100'000;
constexpr int64_t kScanBytesMaxMax = int64_t{16} << 20;
static_assert(kKeyBytesMaxMax + kValueBytesMaxMax + 4096 <= kRpcMessageBytesMax);
static_assert(kBatchBytesMaxMax + kBatchOpsMaxMax * kFraming <= kRpcMessageBytesMax);
static_assert(kScanBytesMaxMax + kVersionsBytesMax + kScanItemsMaxMax * kFraming <=
              kRpcMessageBytesMax);
// A key and a value of the largest sizes fit as a key's one version.
static_assert(kKeyBytesMaxMax + kValueBytesMaxMax + 4096 <= kVersionsBytesMax);
// What the store hands an engine stays within what every engine must take (tessera/engine.h).
static_assert(kKeyBytesMaxMax + 4 <= int64_t{kEngineKeyBytesMax});
static_assert(kVersionsBytesMax <= int64_t{kEngineValueBytesMax});
constexpr std::array<std::string_view, 1> kPluginKeys = {"dirs"};
constexpr std::array<std::string_view, 2> kSecurityKeys = {"cluster_secret_file", "tokens_file"};
constexpr std::array<std::string_view, 3> kTlsKeys = {"cert_file", "key_file", "ca_file"};
constexpr std::array<std::string_view, 2> kSlotKeys = {"plugin", "config"};
constexpr std::array<std::string_view, 6> kLogLevels = {"trace", "debug", "info",
                                                        "warn",  "error", "off"};

Result<PluginSlot> parse_slot(const ConfigSection& root, std::string_view name,
                              std::string fallback) {
  TESSERA_ASSIGN_OR_RETURN(ConfigSection section, root.section(name));
  TESSERA_RETURN_IF_ERROR(section.check_known_keys(kSlotKeys));
  PluginSlot slot;
  TESSERA_ASSIGN_OR_RETURN(slot.plugin, section.get_string("plugin", std::move(fallback)));
  // A plugin named by a path is found like every other path of the file: from its folder.
  if (is_plugin_path(slot.plugin)) {
    TESSERA_ASSIGN_OR_RETURN(std::filesystem::path file, section.get_path("plugin", slot.plugin));
    slot.plugin = file.string();
  }
  TESSERA_ASSIGN_OR_RETURN(slot.config, section.section("config"));
  return slot;
}

// The profile and what it needs: [placement] and [membership] for dynamo and leader, neither
// for single; a profile's own section only with that profile.
Status parse_profile(const ConfigSection& root, const ConfigSection& node, NodeConfig* config) {
  TESSERA_ASSIGN_OR_RETURN(config->profile, node.get_string("profile", std::string(kProfileSingle)));
  auto known = std::find_if(kProfiles.begin(), kProfiles.end(),
                            [&](const auto& p) { return p.first == config->profile; });
  if (known == kProfiles.end()) {
    return Status::invalid_argument(node.where("profile") + ": \"" + config->profile +
                                    "\" is not a profile; expected single, dynamo or leader");
  }
  for (const auto& [profile, section] : kProfiles) {
    if (!section.empty() && profile != config->profile && root.has(section)) {
      return Status::invalid_argument(root.where(section) + ": is the " + std::string(profile) +
                                      " profile's section, but [node] profile is \"" +
                                      config->profile + "\"");
    }
  }
  if (!known->second.empty()) {
    TESSERA_ASSIGN_OR_RETURN(config->profile_section, root.section(known->second));
  }
  const bool distributed = config->profile != kProfileSingle;
  for (const char* slot : {"placement", "membership"}) {
    if (!distributed && root.has(slot)) {
      return Status::invalid_argument(root.where(slot) +
                                      ": a single node loads no placement or membership plugin; "
                                      "set [node] profile = \"dynamo\" or \"leader\" for a "
                                      "cluster");
    }
    if (distributed && !root.has(slot)) {
      return Status::invalid_argument(node.where("profile") + ": the " + config->profile +
                                      " profile needs [" + slot + "] (plugin = \"...\")");
    }
  }
  if (!distributed) return Status::ok();
  TESSERA_ASSIGN_OR_RETURN(PluginSlot placement_slot, parse_slot(root, "placement", ""));
  TESSERA_ASSIGN_OR_RETURN(PluginSlot membership_slot, parse_slot(root, "membership", ""));
  for (const auto& [name, slot] : {std::pair{"placement", &placement_slot},
                                   std::pair{"membership", &membership_slot}}) {
    if (slot->plugin.empty()) {
      return Status::invalid_argument(root.where(name) + ": names no plugin (plugin = \"...\")");
    }
  }
  config->placement = std::move(placement_slot);
  config->membership = std::move(membership_slot);
  return Status::ok();
}

Status parse_limits(const ConfigSection& root, StoreLimits* limits) {
  TESSERA_ASSIGN_OR_RETURN(ConfigSection section, root.section("limits"));
  TESSERA_RETURN_IF_ERROR(section.check_known_keys(kLimitKeys));
  TESSERA_ASSIGN_OR_RETURN(
      int64_t key_max, section.get_int("key_bytes_max", limits->key_bytes_max, 1, kKeyBytesMaxMax));
  TESSERA_ASSIGN_OR_RETURN(int64_t value_max, section.get_int("value_bytes_max",
                                                              limits->value_bytes_max, 0,
                                                              kValueBytesMaxMax));
  TESSERA_ASSIGN_OR_RETURN(int64_t batch_bytes, section.get_int("batch_bytes_max",
                                                                limits->batch_bytes_max, 1,
                                                                kBatchBytesMaxMax));
  TESSERA_ASSIGN_OR_RETURN(int64_t batch_ops, section.get_int("batch_ops_max",
                                                              limits->batch_ops_max, 1,
                                                              kBatchOpsMaxMax));
  TESSERA_ASSIGN_OR_RETURN(int64_t scan_items, section.get_int("scan_items_max",
                                                               limits->scan_items_max, 1,
                                                               kScanItemsMaxMax));
  TESSERA_ASSIGN_OR_RETURN(int64_t scan_bytes, section.get_int("scan_bytes_max",
                                                               limits->scan_bytes_max, 1,
                                                               kScanBytesMaxMax));
  limits->key_bytes_max = key_max;
  limits->value_bytes_max = value_max;
  limits->batch_bytes_max = batch_bytes;
  limits->batch_ops_max = batch_ops;
  limits->scan_items_max = scan_items;
  limits->scan_bytes_max = scan_bytes;
  return Status::ok();
}

// [security]: the cluster secret's file, which a distributed profile cannot run without (its
// node-to-node links are authenticated with it). The file itself is read when the node starts.
Status parse_security(const ConfigSection& root, const ConfigSection& node, NodeConfig* config) {
  TESSERA_ASSIGN_OR_RETURN(ConfigSection section, root.section("security"));
  TESSERA_RETURN_IF_ERROR(section.check_known_keys(kSecurityKeys));
  if (section.has("cluster_secret_file")) {
    TESSERA_ASSIGN_OR_RETURN(config->cluster_secret_file,
                             section.get_path("cluster_secret_file", ""));
  }
  if (section.has("tokens_file")) {
    TESSERA_ASSIGN_OR_RETURN(config->tokens_file, section.get_path("tokens_file", ""));
  }
  if (config->profile != kProfileSingle && !config->cluster_secret_file) {
    return Status::invalid_argument(
        node.where("profile") + ": the " + config->profile +
        " profile needs [security] cluster_secret_file: a file of at least 32 secret bytes that "
        "every node of the cluster shares (docs/OPERATIONS.md, \"Securing a cluster\")");
  }
  return Status::ok();
}

// [tls]: all three files or none (the files are read when the node starts).
Status parse_tls(const ConfigSection& root, NodeConfig* config) {
  if (!root.has("tls")) return Status::ok();
  TESSERA_ASSIGN_OR_RETURN(ConfigSection section, root.section("tls"));
  TESSERA_RETURN_IF_ERROR(section.check_known_keys(kTlsKeys));
  TlsFiles files;
  for (auto [key, path] : {std::pair{"cert_file", &files.cert_file},
                           std::pair{"key_file", &files.key_file},
                           std::pair{"ca_file", &files.ca_file}}) {
    if (!section.has(key)) {
      return Status::invalid_argument(section.where() + ": [tls] needs " + key +
                                      " (cert_file, key_file and ca_file go together)");
    }
    TESSERA_ASSIGN_OR_RETURN(*path, section.get_path(key, ""));
  }
  config->tls = std::move(files);
  return Status::ok();
}

}  // namespace

Status parse_address(std::string_view text, std::string_view what, std::string* host,
                     uint16_t* port) {
  size_t colon = text.rfind(':');
  unsigned value = 0;
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid_argument(std::string(what) + ": \"" + std::string(text) +
                                    "\" is not host:port");
  }
  auto [end, error] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > 65535) {
    return Status::invalid_argument(std::string(what) + ": \"" + std::string(text) +
                                    "\" has no valid port");
  }
  *host = std::string(text.substr(0, colon));
  *port = static_cast<uint16_t>(value);
  return Status::ok();
}

Status check_log_level(std::string_view level, std::string_view what) {
  if (std::find(kLogLevels.begin(), kLogLevels.end(), level) != kLogLevels.end()) {
    return Status::ok();
  }
  return Status::invalid_argument(std::string(what) + ": \"" + std::string(level) +
                                  "\" is not a log level; expected trace, debug, info, warn, "
                                  "error or off");
}

Result<NodeConfig> parse_node_config(const ConfigSection& root) {
  TESSERA_RETURN_IF_ERROR(root.check_known_keys(kRootKeys));
  NodeConfig config;

  TESSERA_ASSIGN_OR_RETURN(ConfigSection node, root.section("node"));
  TESSERA_RETURN_IF_ERROR(node.check_known_keys(kNodeKeys));
  TESSERA_ASSIGN_OR_RETURN(config.node_id, node.get_string("id", "node-1"));
  if (config.node_id.empty()) return Status::invalid_argument(node.where("id") + ": is empty");
  TESSERA_ASSIGN_OR_RETURN(std::string listen, node.get_string("listen", "127.0.0.1:7400"));
  TESSERA_RETURN_IF_ERROR(
      parse_address(listen, node.where("listen"), &config.listen_host, &config.listen_port));
  TESSERA_ASSIGN_OR_RETURN(config.data_dir, node.get_path("data_dir", "data"));
  if (config.data_dir.is_relative()) config.data_dir = std::filesystem::absolute(config.data_dir);
  TESSERA_ASSIGN_OR_RETURN(config.log_level, node.get_string("log_level", "info"));
  TESSERA_RETURN_IF_ERROR(check_log_level(config.log_level, node.where("log_level")));
  int64_t default_workers = std::max(2u, std::thread::hardware_concurrency());
  TESSERA_ASSIGN_OR_RETURN(int64_t workers,
                           node.get_int("worker_threads", default_workers, 1, 256));
  // One client event loop per core, at most 4: on the 2-core machine two loops served 12-14%
  // more gets than one, with the load tool on the same cores (docs/BENCHMARKS.md).
  const int64_t default_loops = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 4);
  TESSERA_ASSIGN_OR_RETURN(int64_t loops, node.get_int("rpc_threads", default_loops, 1, 64));
  config.rpc_threads = static_cast<uint32_t>(loops);
  TESSERA_ASSIGN_OR_RETURN(int64_t in_flight,
                           node.get_int("requests_in_flight_max", 4096, 1, 1'000'000));
  TESSERA_ASSIGN_OR_RETURN(int64_t timeout_ms,
                           node.get_int("request_timeout_ms", 10'000, 1, 3'600'000));
  TESSERA_ASSIGN_OR_RETURN(config.sync_writes, node.get_bool("sync_writes", true));
  TESSERA_ASSIGN_OR_RETURN(int64_t grace_ms, node.get_int("tombstone_grace_ms",
                                                          kTombstoneGraceDefaultMs, 0));
  TESSERA_ASSIGN_OR_RETURN(int64_t sweep_ms, node.get_int("tombstone_sweep_interval_ms", 60'000,
                                                          100, 86'400'000));
  config.tombstone_grace_ms = static_cast<uint64_t>(grace_ms);
  config.tombstone_sweep_interval_ms = static_cast<uint64_t>(sweep_ms);
  config.worker_threads = static_cast<uint32_t>(workers);
  config.requests_in_flight_max = static_cast<uint32_t>(in_flight);
  TESSERA_ASSIGN_OR_RETURN(int64_t connections_max,
                           node.get_int("connections_max", 10'000, 1, 1'000'000));
  config.connections_max = static_cast<uint32_t>(connections_max);
  TESSERA_ASSIGN_OR_RETURN(int64_t per_address,
                           node.get_int("connections_per_address_max", 1'000, 1, 1'000'000));
  config.connections_per_address_max = static_cast<uint32_t>(per_address);
  TESSERA_ASSIGN_OR_RETURN(int64_t idle_ms,
                           node.get_int("idle_timeout_ms", 600'000, 0, 86'400'000));
  config.idle_timeout_ms = static_cast<uint32_t>(idle_ms);
  config.request_timeout_ms = static_cast<uint32_t>(timeout_ms);

  TESSERA_RETURN_IF_ERROR(parse_limits(root, &config.limits));

  TESSERA_ASSIGN_OR_RETURN(ConfigSection plugins, root.section("plugins"));
  TESSERA_RETURN_IF_ERROR(plugins.check_known_keys(kPluginKeys));
  TESSERA_ASSIGN_OR_RETURN(config.plugin_dirs, plugins.get_path_list("dirs"));

  TESSERA_ASSIGN_OR_RETURN(config.engine, parse_slot(root, "engine", "lsm"));
  TESSERA_ASSIGN_OR_RETURN(config.conflict, parse_slot(root, "conflict", "lww"));
  TESSERA_RETURN_IF_ERROR(parse_profile(root, node, &config));
  TESSERA_RETURN_IF_ERROR(parse_security(root, node, &config));
  TESSERA_RETURN_IF_ERROR(parse_tls(root, &config));
  return config;
}

}  // namespace tessera::node
