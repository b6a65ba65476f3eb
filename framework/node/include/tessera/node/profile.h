// Profile: what a node serves requests with, chosen by `[node] profile` in its config.
//
// The node core (node.h) locks the data directory, loads the plugins, opens the local store and
// the worker pool, runs the event loop and the client port; it knows no profile. A profile is
// made from those parts once they exist (`ProfileFactory`, in start(): it checks the plugins and
// its own config section, so that a wrong combination is a config error before anything
// listens), then serves on the event loop:
//
//   start_serving()   on the event loop, once: builds its request path and what runs beside it
//   listening()       once the client port listens: a distributed profile joins its cluster
//   stop_serving()    at shutdown, before the event loop goes: drops what start_serving built
//
// The profiles: `single` (local_path.h, here), `dynamo` (framework/dynamo) and `leader`
// (framework/leader). `main()` maps the name to a factory, so that the node core links none.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <kj/async-io.h>
#include <kj/timer.h>

#include "tessera/conflict.h"
#include "tessera/engine.h"
#include "tessera/membership.h"
#include "tessera/node/local_store.h"
#include "tessera/node/node_config.h"
#include "tessera/node/node_status.h"
#include "tessera/node/request_path.h"
#include "tessera/node/worker_pool.h"
#include "peer_dialer.h"
#include "tessera/peer_service.h"
#include "tessera/placement.h"
#include "tessera/rpc/replica.capnp.h"
#include "tessera/status.h"

namespace tessera::node {

// What the node core lends a profile; all of it outlives the profile. Placement and membership
// are null unless the config names them (single has neither).
struct NodeParts {
  const NodeConfig* config = nullptr;
  Engine* engine = nullptr;
  Conflict* conflict = nullptr;
  Placement* placement = nullptr;
  Membership* membership = nullptr;
  LocalStore* store = nullptr;
  WorkerPool* pool = nullptr;
  // Distributed profiles: opens authenticated links to other nodes' PeerLink (peer_dialer.h);
  // null on a single node.
  const PeerDialer* peer_dialer = nullptr;
};

class Profile {
 public:
  virtual ~Profile() noexcept(false) = default;  // a profile holds KJ objects

  // REQUIRES: called once, on the event loop thread; `timer` and `network` outlive
  // stop_serving().
  virtual Status start_serving(kj::Timer& timer, kj::Network& network) = 0;
  // REQUIRES: start_serving() succeeded and stop_serving() was not called.
  virtual RequestPath& path() = 0;
  // A request path for another event-loop thread that serves client connections beside the
  // main one ([node] rpc_threads), or null when every request needs the main loop's state (the
  // distributed profiles' peers, timers and coordinators). Called on that thread, which owns
  // the path and drops it before stop_serving().
  virtual std::unique_ptr<RequestPath> path_for_loop() { return nullptr; }
  // What the authenticated peer `peer` gets from PeerLink.replica; none unless the profile has
  // a replica side. `peer` is the id the peer proved the cluster secret for.
  virtual kj::Maybe<rpc::Replica::Client> replica(const NodeId& peer) { return nullptr; }
  // A node-to-node service of the profile's own (PeerLink.peer), or null; on the event loop.
  virtual PeerService* peer_service(std::string_view name) { return nullptr; }
  // Who owns what, for Tessera.ring; NotSupported unless the profile places by ranges.
  virtual kj::Promise<Result<std::vector<RangeReport>>> ring() {
    return Result<std::vector<RangeReport>>(
        Status::not_supported("this node's profile shows no range map (the ring's token ranges "
                              "are not listed yet)"));
  }
  // The hints this node holds per target, for Tessera.hints; NotSupported without hints.
  virtual kj::Promise<Result<HintReport>> hints() {
    return Result<HintReport>(Status::not_supported("this node's profile keeps no hints"));
  }
  // Tessera.decommission: moves this node's data away and leaves the cluster; the keys moved.
  virtual kj::Promise<Result<uint64_t>> decommission() {
    return Result<uint64_t>(Status::not_supported("this node's profile cannot decommission a node"));
  }
  // Tessera.removeNode: takes member `id`, down for good, out of the cluster on its behalf.
  virtual kj::Promise<Status> remove_node(const NodeId& id) {
    return Status::not_supported("this node's profile cannot remove node " + id);
  }
  // The profile's own counters for Tessera.status, by name; on the event loop thread.
  virtual std::map<std::string, double> stats() { return {}; }
  // The client port listens at `address` ("host:port").
  virtual Status listening(const std::string& address) { return Status::ok(); }
  // Drops everything start_serving() built; on the event loop thread.
  virtual void stop_serving() = 0;
};

// Makes a node's profile from its parts; InvalidArgument (naming the plugin or key) when the
// profile cannot run with them.
using ProfileFactory = std::function<Result<std::unique_ptr<Profile>>(const NodeParts&)>;

// The `single` profile: every request answered from the node's own store.
Result<std::unique_ptr<Profile>> make_single_profile(const NodeParts& parts);

}  // namespace tessera::node
