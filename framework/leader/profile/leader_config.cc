#include "leader_config.h"

#include <array>
#include <set>

namespace tessera::leader {
namespace {

constexpr std::array<std::string_view, 4> kKeys = {"peers", "replicas", "cluster_id",
                                                   "sync_every_entries"};

}  // namespace

std::vector<NodeInfo> LeaderConfig::metadata_voters() const {
  const size_t count = std::min(peers.size(), kMetadataVotersMax);
  return {peers.begin(), peers.begin() + static_cast<std::ptrdiff_t>(count)};
}

Result<LeaderConfig> parse_leader_config(const ConfigSection& section, const NodeId& self,
                                         const std::string& listen) {
  TESSERA_RETURN_IF_ERROR(section.check_known_keys(kKeys));
  LeaderConfig config;
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> peers, section.get_string_list("peers"));
  std::set<NodeId> ids;
  for (const std::string& item : peers) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return Status::invalid_argument(section.where("peers") + ": \"" + item +
                                      "\" is not id=host:port");
    }
    NodeInfo peer{item.substr(0, eq), item.substr(eq + 1), "", NodeState::kAlive};
    if (!ids.insert(peer.id).second) {
      return Status::invalid_argument(section.where("peers") + ": node " + peer.id +
                                      " is listed twice");
    }
    config.peers.push_back(std::move(peer));
  }
  if (config.peers.empty()) {
    return Status::invalid_argument(section.where("peers") +
                                    ": lists no nodes (every node of the cluster, as id=host:port)");
  }
  if (config.peers.size() > LeaderConfig::kMetadataVotersMax) {
    return Status::invalid_argument(
        section.where("peers") + ": " + std::to_string(config.peers.size()) +
        " nodes; at most 5 for now (every node hosts the metadata group until nodes outside it "
        "can watch it over the network)");
  }
  config.self = config.peers.size();
  for (size_t i = 0; i < config.peers.size(); ++i) {
    if (config.peers[i].id == self) config.self = i;
  }
  if (config.self == config.peers.size()) {
    return Status::invalid_argument(section.where("peers") + ": does not list this node (" +
                                    self + ")");
  }
  if (config.peers[config.self].address != listen) {
    return Status::invalid_argument(section.where("peers") + ": lists " + self + " at " +
                                    config.peers[config.self].address +
                                    ", but it listens at " + listen);
  }
  TESSERA_ASSIGN_OR_RETURN(int64_t replicas,
                           section.get_int("replicas", 3, 1, 7));
  if (static_cast<size_t>(replicas) > config.peers.size()) {
    return Status::invalid_argument(section.where("replicas") + ": " + std::to_string(replicas) +
                                    " is more than the " + std::to_string(config.peers.size()) +
                                    " peers");
  }
  config.replicas = static_cast<size_t>(replicas);
  TESSERA_ASSIGN_OR_RETURN(config.cluster_id, section.get_string("cluster_id", "tessera"));
  TESSERA_ASSIGN_OR_RETURN(int64_t sync_every,
                           section.get_int("sync_every_entries", 4096, 1, int64_t{1} << 30));
  config.sync_every_entries = static_cast<uint64_t>(sync_every);
  return config;
}

}  // namespace tessera::leader
