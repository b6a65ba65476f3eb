// ClusterPeerDialer: the node's PeerDialer (peer_dialer.h): a TCP connection to the peer, the
// challenge and proof over its bootstrap Tessera capability, and the PeerLink it answers.
//
// Thread-safety: const after construction; dial() from any thread that runs a KJ event loop.
// Ownership: borrows the secret, which outlives the dialer; the node keeps the dialer for as
// long as any profile or plugin object that was given it lives.
#pragma once

#include <string>

#include "peer_dialer.h"
#include "tessera/cluster_secret.h"

namespace tessera::node {

class ClusterPeerDialer final : public PeerDialer {
 public:
  ClusterPeerDialer(std::string node_id, const ClusterSecret* secret)
      : node_id_(std::move(node_id)), secret_(secret) {}

  kj::Promise<rpc::PeerLink::Client> dial(kj::Network& network, const std::string& address,
                                          std::shared_ptr<PeerConnection> connection) const override;

  // The challenge and proof on `node`, the bootstrap of a connection already up.
  kj::Promise<rpc::PeerLink::Client> authenticate(rpc::Tessera::Client node,
                                                  const std::string& address) const;

 private:
  const std::string node_id_;
  const ClusterSecret* const secret_;
};

}  // namespace tessera::node
