// PeerDialer: how a node opens an authenticated link to another node of its cluster.
//
// Every node-to-node call (the AP profile's Replica, the leader profile's forwarding, the raft
// plugin's RaftPeer) goes over a PeerLink (tessera.capnp), which a node hands out only to a peer
// that proved the cluster secret on that connection: `peerChallenge` answers a fresh nonce and
// `authenticatePeer(nodeId, HMAC-SHA256(secret, nonce || nodeId))` answers the link. The host
// implements the dial once (the node core: tessera/node/cluster_peer_dialer.h, TLS included
// when the node is configured with it) and hands it to the profiles and, through
// PluginContext::peer_dialer, to plugins, which therefore never see the secret.
//
// Thread-safety: dial() may be called from any thread that runs a KJ event loop; everything it
// makes lives on that loop. Ownership: the host owns the dialer and keeps it for as long as any
// profile or plugin object it gave it to lives.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <memory>
#include <string>

#include "tessera/rpc/tessera.capnp.h"

namespace tessera {

// One connection to a peer: the stream and the RPC system over it (destroyed first). Both are
// set once the stream is up (TLS handshake included), before the peer has been authenticated.
struct PeerConnection {
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyClient> rpc;
};

class PeerDialer {
 public:
  virtual ~PeerDialer() noexcept(false) = default;  // an implementation may hold KJ objects

  // Connects to the node at `address` ("host:port") through `network` (the calling thread's),
  // proves this node's cluster secret and resolves to the peer's PeerLink. Fills `connection`
  // as soon as the stream is up; the caller keeps it for as long as it uses the link. Never
  // throws: a failure (no route, a refused connection, a peer that refuses the proof with
  // `unauthorized`) rejects the promise with a KJ exception whose description names the peer
  // and the reason, as every failed KJ connection does.
  virtual kj::Promise<rpc::PeerLink::Client> dial(kj::Network& network, const std::string& address,
                                                  std::shared_ptr<PeerConnection> connection) const = 0;
};

}  // namespace tessera
