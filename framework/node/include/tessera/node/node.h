// Node: one Tessera server process, assembled from its config; the core that every profile
// shares (profile.h).
//
// start() takes the data directory's lock, loads the plugins the config names, opens the store
// and makes the profile; serve() starts the profile on the event loop, serves the client API
// until SIGINT or SIGTERM and then shuts down in order: stop accepting, stop the profile, finish
// the worker pool, sync and close the engine.
//
// Threads: the calling thread runs the KJ event loop (RPC); a Boost.Asio pool runs engine work.
// REQUIRES: capture_signals() was called before any other thread of the process started (the
// engine's background threads included), so that SIGINT/SIGTERM reach the event loop.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <kj/async.h>
#include <kj/timer.h>

#include "tessera/status.h"
#include "tessera/node/node_config.h"
#include "tessera/node/node_status.h"
#include "tessera/node/profile.h"

namespace tessera::node {

// Blocks SIGINT and SIGTERM for this thread and every thread it starts later, and routes them
// to the node's event loop.
void capture_signals();

class Node {
 public:
  // REQUIRES: `config`'s plugin sections stay valid until the node is destroyed.
  // `make_profile` makes the profile the config names.
  Node(NodeConfig config, std::filesystem::path default_plugin_dir, ProfileFactory make_profile);
  ~Node();

  // Locks the data dir (Busy when another process holds it), loads plugins, opens the store,
  // makes the profile (InvalidArgument when it cannot run with the plugins or its config).
  Status start();
  // Serves until a signal arrives; calls `on_listening("host:port")` once the socket listens.
  // Then shuts down: an error when the engine's final sync fails (acknowledged writes are
  // durable already; what `sync_writes = false` left in the kernel may not be).
  Status serve(const std::function<void(const std::string&)>& on_listening);

 private:
  struct State;
  // Finishes the worker pool and syncs the engine, once; later calls return OK.
  Status shut_down();
  // Every tombstone_sweep_interval_ms, one bounded pass of LocalStore::collect_tombstones on the
  // worker pool, resuming where the previous pass stopped.
  kj::Promise<void> sweep_tombstones(kj::Timer& timer);
  // What Tessera.status answers; the engine's figures are read on the worker pool.
  kj::Promise<Result<NodeStatusReport>> status_report();

  NodeConfig config_;
  std::filesystem::path default_plugin_dir_;
  ProfileFactory make_profile_;
  std::string listening_;  // host:port once serve() listens
  std::unique_ptr<State> state_;
};

}  // namespace tessera::node
