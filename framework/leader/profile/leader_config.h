// LeaderConfig: the leader profile's own section, [leader].
//
//   [leader]
//   peers = ["n1=127.0.0.1:7501", ...]  every node of the cluster, this one too, as id=host:port
//                                         (this node's entry must be its [node] listen); the
//                                         static config the cluster is founded from, once
//   replicas = 3                          voters of each range's Raft group (1-7, <= peers)
//   cluster_id = "tessera"                the name founded into the metadata service
//   sync_every_entries = 4096             a range's engine sync interval, in applied entries
//
// The metadata group runs on the first min(5, peers) peers. Every node must be one of them for
// now: a node outside the metadata group would need the metadata watch over the network, which
// is not built yet, so more than 5 peers is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/config.h"
#include "tessera/status.h"

namespace tessera::leader {

struct LeaderConfig {
  std::vector<NodeInfo> peers;  // in the order given; alive, no zone yet
  size_t self = 0;              // this node's index in `peers`
  size_t replicas = 3;
  std::string cluster_id = "tessera";
  uint64_t sync_every_entries = 4096;

  static constexpr size_t kMetadataVotersMax = 5;
  // The metadata group's founders: the first min(5, peers).
  std::vector<NodeInfo> metadata_voters() const;
};

// InvalidArgument naming the key: a malformed peer, a duplicate id, this node (`self`,
// listening at `listen`) missing or at another address, replicas out of range.
Result<LeaderConfig> parse_leader_config(const ConfigSection& section, const NodeId& self,
                                         const std::string& listen);

}  // namespace tessera::leader
