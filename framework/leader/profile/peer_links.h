// PeerLinks: one Cap'n Proto connection to each other node of a leader cluster, to that node's
// "leader" peer service: a Tessera capability served from its own replicas only (no forwarding),
// so that a request forwarded once is never forwarded again.
//
// A connection is opened on first use, and forgotten when a call on it fails so that the next
// call connects afresh. `connected()` tells a failed call that never left this node (the
// connection was refused or never completed) from one whose outcome is unknown.
//
// Thread-safety: event loop thread only. Ownership: borrows the network; it outlives the links.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/rpc/tessera.capnp.h"

namespace tessera::leader {

// The peer service name the leader profile offers (Tessera.peer).
inline constexpr const char* kLeaderPeerService = "leader";

class PeerLinks {
 public:
  struct Connection {
    kj::Own<kj::AsyncIoStream> stream;
    kj::Own<capnp::TwoPartyClient> rpc;
    bool connected = false;
  };
  struct Link {
    std::shared_ptr<Connection> connection;
    rpc::Tessera::Client client;
  };

  PeerLinks(kj::Network& network, std::vector<NodeInfo> peers)
      : network_(network), peers_(std::move(peers)) {}

  // The link to `node`, connecting now if there is none. A node with no known address gets a
  // client whose calls fail.
  Link link(const NodeId& node);
  // Drops `node`'s link if it is still `connection`.
  void forget(const NodeId& node, const Connection* connection);

 private:
  kj::Network& network_;
  const std::vector<NodeInfo> peers_;
  std::map<NodeId, Link> links_;
};

}  // namespace tessera::leader
