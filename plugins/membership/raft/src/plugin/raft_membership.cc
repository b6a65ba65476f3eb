#include "plugin/raft_membership.h"

namespace tessera::raft_plugin {

std::vector<NodeInfo> RaftMembership::members() const {
  std::vector<NodeInfo> out;
  {
    std::lock_guard lock(mu_);
    if (self_) out.push_back(*self_);
  }
  for (NodeInfo& node : groups_->known_nodes()) {
    if (out.empty() || node.id != out.front().id) out.push_back(std::move(node));
  }
  return out;
}

Status RaftMembership::join(const NodeInfo& self) {
  std::lock_guard lock(mu_);
  self_ = self;
  return Status::ok();
}

PeerService* RaftMembership::peer_service(std::string_view name) {
  return name == "raft" ? groups_->peer_service() : nullptr;
}

}  // namespace tessera::raft_plugin
