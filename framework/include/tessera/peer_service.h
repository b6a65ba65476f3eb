// PeerService: a node-to-node service that a plugin offers on the node's own RPC port.
//
// A plugin that talks to its counterparts on other nodes (the Raft membership plugin sends raft
// messages and snapshot chunks) does not open a port of its own: a peer connects to the node's
// listen address like any client, proves the cluster secret (Tessera.peerChallenge,
// Tessera.authenticatePeer), asks the `PeerLink` it gets for the service by name
// (`PeerLink.peer`, tessera.capnp) and gets the Cap'n Proto capability this object makes. A
// plugin dials its counterparts with PluginContext::peer_dialer (peer_dialer.h), which does all
// of that. The schema of that capability is the plugin's own; the framework only hands it out,
// and only to authenticated peers.
//
// Thread-safety: capability() is called on the node's event-loop thread, each time a peer asks.
// The capability it returns lives on that loop: its methods run there, and must never block
// (no disk, no lock held by another thread for long, no wait on the plugin's threads); they hand
// work to the plugin's own threads through thread-safe queues and answer with promises (a
// kj::CrossThreadPromiseFulfiller resolves them from another thread).
//
// Ownership: the plugin object that returned the PeerService owns it. The host drops every
// capability it made (its RPC connections close) before it destroys that plugin object, so code
// of the plugin's library never runs after the library is unloaded.
#pragma once

#include <capnp/capability.h>

namespace tessera {

class PeerService {
 public:
  virtual ~PeerService() = default;

  // A capability to serve one peer connection. Must not throw; a plugin that cannot serve
  // returns a capability whose calls fail (capnp::Capability::Client(kj::Exception)).
  virtual capnp::Capability::Client capability() = 0;
};

}  // namespace tessera
