// ClusterPeerDialer: the node's PeerDialer (peer_dialer.h): a TCP connection to the peer (TLS
// when the node has a client context: the peer's certificate must be signed by the cluster's CA
// and name the host of its address), the challenge and proof over its bootstrap Tessera
// capability, and the PeerLink it answers.
//
// Thread-safety: const after construction; dial() from any thread that runs a KJ event loop.
// Ownership: borrows the secret, which outlives the dialer; the node keeps the dialer for as
// long as any profile or plugin object that was given it lives.
#pragma once

#include <string>

#include "peer_dialer.h"
#include "tessera/cluster_secret.h"
#include "tls_context.h"

namespace tessera::node {

class ClusterPeerDialer final : public PeerDialer {
 public:
  // `tls`: a client context (make_client_tls) the dialer owns; null: plain TCP.
  ClusterPeerDialer(std::string node_id, const ClusterSecret* secret,
                    kj::Own<kj::TlsContext> tls = {})
      : node_id_(std::move(node_id)), secret_(secret), tls_(kj::mv(tls)) {}

  kj::Promise<rpc::PeerLink::Client> dial(kj::Network& network, const std::string& address,
                                          std::shared_ptr<PeerConnection> connection) const override;

  // The challenge and proof on `node`, the bootstrap of a connection already up.
  kj::Promise<rpc::PeerLink::Client> authenticate(rpc::Tessera::Client node,
                                                  const std::string& address) const;

 private:
  const std::string node_id_;
  const ClusterSecret* const secret_;
  // Only wrapClient is called, which OpenSSL's SSL_CTX allows from every thread.
  mutable kj::Own<kj::TlsContext> tls_;
};

}  // namespace tessera::node
