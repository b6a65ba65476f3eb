// NodeStatusReport: what `Tessera.status` answers (tessera.capnp NodeStatus), as the node core
// gathers it: who the node is, what it loaded, and its engine's and membership's counters.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tessera/cluster.h"

namespace tessera::node {

struct PluginReport {
  std::string slot;
  std::string name;
  std::string version;
  std::string file;
};

struct NodeStatusReport {
  NodeId node_id;
  std::string profile;
  std::string listen;
  uint64_t uptime_ms = 0;
  std::vector<PluginReport> plugins;
  uint64_t data_bytes = 0;
  std::map<std::string, double> engine_stats;
  std::map<std::string, double> membership_stats;
};

}  // namespace tessera::node
