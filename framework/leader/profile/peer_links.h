// PeerLinks: one authenticated Cap'n Proto connection (peer_dialer.h) to each other node of a
// leader cluster, to that node's "leader" peer service (PeerLink.peer): a Tessera capability served from its own replicas only (no forwarding),
// so that a request forwarded once is never forwarded again.
//
// A connection is opened on first use, and forgotten when a call on it fails so that the next
// call connects afresh. `Connection::connected` tells a failed call that never left this node
// (the connection was refused, never completed or the peer refused this node's proof) from one
// whose outcome is unknown.
//
// Thread-safety: event loop thread only. Ownership: borrows the network and the dialer; both
// outlive the links.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peer_dialer.h"
#include "tessera/cluster.h"
#include "tessera/rpc/tessera.capnp.h"

namespace tessera::leader {

// The peer service name the leader profile offers (PeerLink.peer).
inline constexpr const char* kLeaderPeerService = "leader";

class PeerLinks {
 public:
  struct Connection : PeerConnection {
    bool connected = false;  // the peer accepted this node's proof: calls may leave from now on
  };
  struct Link {
    std::shared_ptr<Connection> connection;
    rpc::Tessera::Client client;
  };

  PeerLinks(kj::Network& network, const PeerDialer& dialer, std::vector<NodeInfo> peers)
      : network_(network), dialer_(dialer), peers_(std::move(peers)) {}

  // The link to `node`, connecting now if there is none. A node with no known address gets a
  // client whose calls fail.
  Link link(const NodeId& node);
  // Drops `node`'s link if it is still `connection`.
  void forget(const NodeId& node, const Connection* connection);

 private:
  kj::Network& network_;
  const PeerDialer& dialer_;
  const std::vector<NodeInfo> peers_;
  std::map<NodeId, Link> links_;
};

}  // namespace tessera::leader
