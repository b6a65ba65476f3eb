// Membership: the plugin interface that says who is in the cluster.
//
// A membership plugin knows the nodes (ids, addresses, zones) and their liveness, accepts joins
// and leaves, and tells subscribers when the view changes. Gossip implements it for the AP
// profile; Raft-backed membership adds replication groups for the CP profile.
//
// Thread-safety: all methods may be called concurrently; listeners are called on the plugin's
// own thread, one event at a time, and must not block.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/replication.h"
#include "tessera/status.h"

namespace tessera {

class PeerService;  // tessera/peer_service.h

class Membership {
 public:
  virtual ~Membership() = default;

  using Listener = std::function<void(const std::vector<NodeInfo>& members)>;

  // The current view, this node included.
  virtual std::vector<NodeInfo> members() const = 0;

  // Starts announcing `self` to the cluster (a no-op for static membership).
  virtual Status join(const NodeInfo& self) = 0;
  // Leaves the cluster gracefully.
  virtual Status leave() = 0;

  // AP: this node, which joined with `self.joining` set, has copied its ranges and owns them
  // from now on (its peers learn it as they learn any change of it). NotSupported (the default)
  // where ownership does not follow membership.
  virtual Status finish_joining() {
    return Status::not_supported("this membership has no joining members");
  }

  // Takes `id`, a member that is down for good, out of the cluster on its behalf: it becomes
  // kLeft in every view, as if it had left, and its ranges move to other members.
  // InvalidArgument when `id` is alive or suspect (it can leave by itself) or is this node;
  // NotFound when no member has that id; NotSupported (the default) where members are not
  // removed this way.
  virtual Status remove(const NodeId& id) {
    return Status::not_supported("this membership cannot remove member " + id);
  }

  // Calls `listener` with the new view after each change, until the plugin is destroyed.
  virtual void subscribe(Listener listener) = 0;

  // The replication groups this membership runs (the CP profile: Raft), owned by the plugin
  // object and valid while it lives; nullptr when it runs none (gossip).
  virtual ReplicationGroups* replication_groups() { return nullptr; }

  // The node-to-node service named `name` that this plugin offers on the node's RPC port
  // (`PeerLink.peer`, to authenticated peers), owned by the plugin object and valid while it lives; nullptr when it
  // offers none of that name (gossip offers none). Called on the node's event-loop thread; must
  // not block.
  virtual PeerService* peer_service(std::string_view name) { return nullptr; }
};

}  // namespace tessera
