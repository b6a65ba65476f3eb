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
  std::map<std::string, double> profile_stats;
};

// One range as `Tessera.ring` shows it (leader profile): its descriptor, and this node's view of
// its group where it hosts a replica.
struct RangeReport {
  RangeDescriptor range;
  NodeId leader;  // as this node knows it
  bool hosted = false;
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
};

// The hints a node holds, per node they are owed to (Tessera.hints, dynamo profile).
struct HintReport {
  std::map<NodeId, uint64_t> pending;
  bool truncated = false;  // counting stopped at its bound
};

}  // namespace tessera::node
