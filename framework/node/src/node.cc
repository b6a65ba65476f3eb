#include "tessera/node/node.h"

#include <fcntl.h>

#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <spdlog/spdlog.h>

#include "tessera/conflict.h"
#include "tessera/engine.h"
#include "tessera/membership.h"
#include "tessera/placement.h"
#include "tessera/plugin_loader.h"
#include "client_connections.h"
#include "client_loops.h"
#include "tessera/cluster_secret.h"
#include "tessera/node/client_service.h"
#include "tessera/node/cluster_peer_dialer.h"
#include "tessera/node/worker_pool.h"

namespace tessera::node {
namespace fs = std::filesystem;

void capture_signals() {
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGTERM);
}

namespace {

// An flock() on <data_dir>/LOCK, held for the life of the node. The kernel drops it when the
// process dies, so a kill -9 never leaves a stale lock behind.
class DataDirLock {
 public:
  static Result<std::unique_ptr<DataDirLock>> acquire(const fs::path& dir) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) {
      return Status::io_error("cannot create data directory " + dir.string() + ": " +
                              error.message());
    }
    fs::path file = dir / "LOCK";
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::io_error("cannot open " + file.string() + ": " + strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Status::busy("data directory " + dir.string() +
                          " is locked by another process (" + file.string() + ")");
    }
    return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
  }
  ~DataDirLock() { ::close(fd_); }

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

uint64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Keys one sweep pass examines: small enough that a pass never holds a worker for long.
constexpr size_t kSweepKeysPerPass = 10'000;
}  // namespace

// Members are destroyed bottom-up: the pool drains before the store closes, the store before
// the plugins, the plugins before the data-dir lock is released.
struct Node::State {
  std::unique_ptr<DataDirLock> lock;
  // Lent to the profile and the membership plugin, so they go after both.
  std::optional<ClusterSecret> cluster_secret;
  std::unique_ptr<ClusterPeerDialer> peer_dialer;
  std::optional<TokenTable> tokens;  // client tokens; none: clients are not authenticated
  std::shared_ptr<const TlsMaterial> tls;  // [tls]; null: plain TCP
  PluginPtr<Engine> engine;
  PluginPtr<Conflict> conflict;
  // Null on a single node. Membership goes first: its listener uses placement.
  PluginPtr<Placement> placement;
  PluginPtr<Membership> membership;
  std::unique_ptr<LocalStore> store;
  std::unique_ptr<WorkerPool> pool;
  // Jobs it queued hold no pointer to it, so it may go before the pool drains.
  std::unique_ptr<Profile> profile;
  std::vector<PluginReport> plugins;  // what was loaded, for the status
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  Bytes sweep_cursor;  // where the next tombstone sweep pass starts; owned by the event loop
};

kj::Promise<void> Node::sweep_tombstones(kj::Timer& timer) {
  return timer.afterDelay(config_.tombstone_sweep_interval_ms * kj::MILLISECONDS)
      .then([this]() {
        return state_->pool->run([this, cursor = state_->sweep_cursor]() {
          return state_->store->collect_tombstones(cursor, kSweepKeysPerPass,
                                                   config_.tombstone_grace_ms);
        });
      })
      .then([this, &timer](Result<TombstoneSweep> sweep) {
        if (sweep.is_ok()) {
          state_->sweep_cursor = sweep->next_cursor;
          if (sweep->collected > 0) {
            spdlog::debug("tombstone sweep: examined {}, collected {}", sweep->examined,
                          sweep->collected);
          }
          if (sweep->unreadable > 0) {
            spdlog::warn("tombstone sweep: {} stored records do not decode (Corruption); skipped",
                         sweep->unreadable);
          }
        } else if (sweep.status().code() != StatusCode::kBusy) {
          spdlog::warn("tombstone sweep failed: {}", sweep.status().to_string());
        }
        return sweep_tombstones(timer);
      });
}

Node::Node(NodeConfig config, fs::path default_plugin_dir, ProfileFactory make_profile)
    : config_(std::move(config)),
      default_plugin_dir_(std::move(default_plugin_dir)),
      make_profile_(std::move(make_profile)) {}

Node::~Node() {
  Status stopped = shut_down();
  if (!stopped.is_ok()) spdlog::error("{}", stopped.to_string());
}

Status Node::shut_down() {
  if (!state_ || !state_->engine || !state_->pool) return Status::ok();
  state_->pool.reset();
  Status synced = state_->engine->sync();
  if (synced.is_ok()) return synced;
  return Status::io_error("final sync of the engine failed: " + synced.to_string());
}

kj::Promise<Result<NodeStatusReport>> Node::status_report() {
  NodeStatusReport report;
  report.node_id = config_.node_id;
  report.profile = config_.profile;
  report.listen = listening_;
  report.uptime_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - state_->started)
                                               .count());
  report.plugins = state_->plugins;
  if (state_->profile != nullptr) report.profile_stats = state_->profile->stats();
  // The engine's figures on the pool: an engine may take a lock that a write holds.
  return state_->pool->run([engine = state_->engine.get(), membership = state_->membership.get(),
                            report = std::move(report)]() mutable -> Result<NodeStatusReport> {
    TESSERA_ASSIGN_OR_RETURN(report.data_bytes, engine->approximate_size("", ""));
    report.engine_stats = engine->stats();
    if (membership != nullptr && membership->replication_groups() != nullptr) {
      report.membership_stats = membership->replication_groups()->stats();
    }
    return report;
  });
}

Status Node::start() {
  auto state = std::make_unique<State>();
  // Clients: tokens, or an open node that only this machine can reach.
  if (config_.tokens_file) {
    TESSERA_ASSIGN_OR_RETURN(state->tokens,
                             TokenTable::load(*config_.tokens_file, "[security] tokens_file"));
    spdlog::info("node {}: clients authenticate with one of {} tokens ({})", config_.node_id,
                 state->tokens->size(), config_.tokens_file->string());
  } else if (!is_loopback_host(config_.listen_host)) {
    return Status::invalid_argument(
        "[node] listen " + config_.listen_host + ":" + std::to_string(config_.listen_port) +
        " is not a loopback address, and [security] tokens_file is not set: every client that "
        "reaches the port would be served unauthenticated. Set tokens_file (docs/OPERATIONS.md, "
        "\"Client tokens\") or listen on 127.0.0.1");
  } else {
    spdlog::warn("node {}: clients are not authenticated (no [security] tokens_file): anyone "
                 "who reaches {} on this machine has every role",
                 config_.node_id, config_.listen_host);
  }
  TESSERA_ASSIGN_OR_RETURN(state->lock, DataDirLock::acquire(config_.data_dir));
  raise_descriptor_limit(config_.connections_max);
  if (config_.tls) {
    TESSERA_ASSIGN_OR_RETURN(state->tls, load_tls_material(*config_.tls, "[tls]"));
    spdlog::info("node {}: TLS on the client port and the node links (certificate {}, CA {})",
                 config_.node_id, config_.tls->cert_file.string(),
                 config_.tls->ca_file.string());
  }
  if (config_.cluster_secret_file) {
    bool readable_by_others = false;
    TESSERA_ASSIGN_OR_RETURN(state->cluster_secret,
                             ClusterSecret::load(*config_.cluster_secret_file,
                                                 "[security] cluster_secret_file",
                                                 &readable_by_others));
    if (readable_by_others) {
      spdlog::warn("node {}: the cluster secret {} is readable by its group or others; "
                   "chmod 600 it: whoever reads it can act as a node of the cluster",
                   config_.node_id, config_.cluster_secret_file->string());
    }
    kj::Own<kj::TlsContext> peer_tls;
    if (state->tls) {
      peer_tls = make_client_tls(kj::arrayPtr(state->tls->trusted.data(), state->tls->trusted.size()));
    }
    state->peer_dialer = std::make_unique<ClusterPeerDialer>(
        config_.node_id, &*state->cluster_secret, kj::mv(peer_tls));
  }

  std::vector<fs::path> dirs = {default_plugin_dir_};
  dirs.insert(dirs.end(), config_.plugin_dirs.begin(), config_.plugin_dirs.end());
  PluginLoader loader(dirs);

  PluginContext engine_context{config_.node_id, config_.data_dir / "engine"};
  std::error_code error;
  fs::create_directories(engine_context.data_dir, error);
  if (error) {
    return Status::io_error("cannot create the engine directory " +
                            engine_context.data_dir.string() + ": " + error.message());
  }
  TESSERA_ASSIGN_OR_RETURN(state->engine, loader.make_engine(config_.engine.plugin,
                                                             engine_context,
                                                             config_.engine.config));
  TESSERA_ASSIGN_OR_RETURN(state->conflict,
                           loader.make_conflict(config_.conflict.plugin,
                                                {config_.node_id, {}}, config_.conflict.config));
  if (config_.placement) {
    TESSERA_ASSIGN_OR_RETURN(state->placement,
                             loader.make_placement(config_.placement->plugin,
                                                   {config_.node_id, {}},
                                                   config_.placement->config));
    // The membership plugin's own files (the raft log) under <data_dir>/membership.
    const fs::path membership_dir = config_.data_dir / "membership";
    fs::create_directories(membership_dir, error);
    if (error) {
      return Status::io_error("cannot create " + membership_dir.string() + ": " + error.message());
    }
    const PluginContext membership_context{
        .node_id = config_.node_id,
        .data_dir = membership_dir,
        .cluster_secret = state->cluster_secret ? &*state->cluster_secret : nullptr,
        .peer_dialer = state->peer_dialer.get()};
    TESSERA_ASSIGN_OR_RETURN(state->membership,
                             loader.make_membership(config_.membership->plugin,
                                                    membership_context,
                                                    config_.membership->config));
  }
  StoreOptions store_options{.node = config_.node_id,
                             .limits = config_.limits,
                             .sync_writes = config_.sync_writes,
                             .now_ms = wall_clock_ms};
  TESSERA_ASSIGN_OR_RETURN(state->store, LocalStore::open(state->engine.get(),
                                                          state->conflict.get(),
                                                          std::move(store_options)));
  state->pool = std::make_unique<WorkerPool>(config_.worker_threads,
                                             config_.requests_in_flight_max);
  // The descriptors of what was loaded, for Tessera.status (loading again only maps the same
  // libraries once more).
  auto describe = [&](const char* slot, const std::string& plugin, PluginKind kind) {
    Result<LoadedPlugin> loaded = loader.load(plugin, kind);
    if (!loaded.is_ok()) return;
    state->plugins.push_back({slot, loaded->descriptor->name, loaded->descriptor->version,
                              loaded->file.string()});
  };
  describe("engine", config_.engine.plugin, PluginKind::kEngine);
  describe("conflict", config_.conflict.plugin, PluginKind::kConflict);
  if (config_.placement) describe("placement", config_.placement->plugin, PluginKind::kPlacement);
  if (config_.membership) {
    describe("membership", config_.membership->plugin, PluginKind::kMembership);
  }
  NodeParts parts{.config = &config_,
                  .engine = state->engine.get(),
                  .conflict = state->conflict.get(),
                  .placement = state->placement.get(),
                  .membership = state->membership.get(),
                  .store = state->store.get(),
                  .pool = state->pool.get(),
                  .peer_dialer = state->peer_dialer.get()};
  TESSERA_ASSIGN_OR_RETURN(state->profile, make_profile_(parts));
  spdlog::info("node {}: profile {}, engine {}, conflict {}, data in {}", config_.node_id,
               config_.profile, config_.engine.plugin, config_.conflict.plugin,
               config_.data_dir.string());
  state_ = std::move(state);
  return Status::ok();
}

Status Node::serve(const std::function<void(const std::string&)>& on_listening) {
  TESSERA_REQUIRE(state_ != nullptr, "serve() before a successful start()");
  try {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    Profile& profile = *state_->profile;
    TESSERA_RETURN_IF_ERROR(profile.start_serving(io.provider->getTimer(), io.provider->getNetwork()));
    KJ_DEFER(profile.stop_serving());
    // What every loop's client service answers; the main loop's adds the node-to-node side.
    auto client_options = [this]() {
      return ClientServiceOptions{
          .default_timeout_ms = config_.request_timeout_ms,
          .batch_ops_max = config_.limits.batch_ops_max,
          .tokens = state_->tokens ? &*state_->tokens : nullptr,
          .status_report = [this]() { return status_report(); },
          .members = [this]() -> Result<std::vector<NodeInfo>> {
            if (state_->membership) return state_->membership->members();
            return std::vector<NodeInfo>{
                NodeInfo{config_.node_id, listening_, "", NodeState::kAlive}};
          }};
    };
    ClientServiceOptions main_options = client_options();
    // The node-to-node side, for peers that prove the cluster secret (PeerLink). Plugins'
    // services come from the membership plugin, which outlives `server` and with it every
    // capability a peer was handed.
    main_options.cluster_secret = state_->cluster_secret ? &*state_->cluster_secret : nullptr;
    main_options.replica = [&profile](const NodeId& peer) { return profile.replica(peer); };
    main_options.membership = state_->membership.get();
    main_options.profile_peer_services = [&profile](std::string_view name) {
      return profile.peer_service(name);
    };
    main_options.ring = [&profile]() { return profile.ring(); };
    main_options.hints = [&profile]() { return profile.hints(); };
    main_options.decommission = [&profile]() { return profile.decommission(); };
    main_options.remove_node = [&profile](const NodeId& id) { return profile.remove_node(id); };
    ClientServices main_services(config_.node_id, &profile.path(), &io.provider->getTimer(),
                                 std::move(main_options));
    ConnectionServer server(
        [&main_services]() -> capnp::Capability::Client {
          return rpc::Tessera::Client(main_services.for_connection());
        },
        state_->tls ? make_server_tls(*state_->tls, io.provider->getTimer()) : kj::Own<kj::TlsContext>());
    // More loops for client connections, when the profile can serve from them.
    TESSERA_ASSIGN_OR_RETURN(
        std::unique_ptr<ClientLoops> loops,
        ClientLoops::start(config_.rpc_threads - 1, profile,
                           [this, client_options](RequestPath* path, kj::Timer& timer) {
                             return std::make_unique<ClientServices>(config_.node_id, path,
                                                                     &timer, client_options());
                           },
                           config_.idle_timeout_ms, state_->tls));
    if (config_.rpc_threads > 1 + loops->size()) {
      spdlog::info("node {}: the {} profile serves clients on one event loop (rpc_threads = {} "
                   "applies to the single profile)",
                   config_.node_id, config_.profile, config_.rpc_threads);
    }
    auto address = io.provider->getNetwork()
                       .parseAddress(config_.listen_host, config_.listen_port)
                       .wait(io.waitScope);
    kj::Own<kj::ConnectionReceiver> listener = address->listen();
    std::string bound = config_.listen_host + ":" + std::to_string(listener->getPort());
    listening_ = bound;
    size_t next_loop = 0;  // round robin over the main loop (0) and the others
    ClientAcceptor acceptor(
        *listener, io.provider->getTimer(),
        ConnectionLimits{.connections_max = config_.connections_max,
                         .per_address_max = config_.connections_per_address_max,
                         .idle_timeout_ms = config_.idle_timeout_ms},
        [&](kj::Own<kj::AsyncIoStream> connection, ConnectionToken token) {
          const size_t loop = next_loop++ % (loops->size() + 1);
          if (loop == 0) {
            serve_connection(server, io.provider->getTimer(), config_.idle_timeout_ms,
                             kj::mv(connection), std::move(token));
          } else {
            loops->serve(loop - 1, kj::mv(connection), std::move(token));
          }
        });
    kj::Promise<void> accepting = acceptor.run();
    kj::Promise<void> sweeping =
        sweep_tombstones(io.provider->getTimer()).eagerlyEvaluate([](kj::Exception&& e) {
          spdlog::error("tombstone sweeper stopped: {}", e.getDescription().cStr());
        });
    spdlog::info("node {} listening on {}", config_.node_id, bound);
    TESSERA_RETURN_IF_ERROR(profile.listening(bound));
    on_listening(bound);

    auto stop = io.unixEventPort.onSignal(SIGINT).exclusiveJoin(
        io.unixEventPort.onSignal(SIGTERM));
    // Accepting never ends on its own (a bug would surface as an exception from wait()); a
    // signal ends the loop.
    auto accept_failed = accepting.then([]() { return siginfo_t{}; });
    siginfo_t signal = accept_failed.exclusiveJoin(kj::mv(stop)).wait(io.waitScope);
    spdlog::info("node {}: signal {}, shutting down", config_.node_id, signal.si_signo);
  } catch (const kj::Exception& e) {
    return Status::unavailable("cannot serve on " + config_.listen_host + ":" +
                               std::to_string(config_.listen_port) + ": " +
                               std::string(e.getDescription().cStr()));
  }
  return shut_down();
}

}  // namespace tessera::node
