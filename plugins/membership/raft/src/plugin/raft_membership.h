// RaftMembership: the `raft` Membership plugin object: the node's replication groups
// (RaftGroups) and the node-to-node service their transport offers.
//
// Purpose: the CP profile's membership. Who is in the cluster is what the host tells the
// groups: members() lists this node (once joined) and every node the host's replica resolver
// named so far; join() records this node's address, leave() does nothing (a replica leaves a
// group through ReplicationGroups::change_voters). Liveness is each group's business (a leader
// that stops hearing from a majority steps down), so members are reported alive and no view
// change is ever announced to subscribe()'s listeners.
//
// Thread-safety: every method may be called from any thread. Ownership: owns the groups.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "plugin/raft_groups.h"
#include "tessera/membership.h"

namespace tessera::raft_plugin {

class RaftMembership final : public Membership {
 public:
  explicit RaftMembership(std::unique_ptr<RaftGroups> groups) : groups_(std::move(groups)) {}

  std::vector<NodeInfo> members() const override;
  Status join(const NodeInfo& self) override;
  Status leave() override { return Status::ok(); }
  void subscribe(Listener) override {}
  ReplicationGroups* replication_groups() override { return groups_.get(); }
  PeerService* peer_service(std::string_view name) override;

 private:
  std::unique_ptr<RaftGroups> groups_;
  mutable std::mutex mu_;
  std::optional<NodeInfo> self_;  // guarded by mu_
};

}  // namespace tessera::raft_plugin
