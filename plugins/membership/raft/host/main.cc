// tessera-raft-host: runs the raft membership plugin's replication groups in one process, with
// a key-value state machine per group in a storage engine, behind the Tessera client API.
//
//   tessera-raft-host --config FILE
//
// FILE (TOML):
//   [node]        id, listen ("host:port"), data_dir     as tessera-node's
//   [engine]      plugin (default "lsm"), config          the state machines' engine
//   [membership]  plugin = "raft", config                 the raft plugin and its config
//   [raft_host]   peers = ["id=host:port", ...]           every node, this one too (listen must
//                                                         be its own entry's address)
//                 groups (8, 1..1024), timeout_ms (5000), sync_every_entries (4096: the
//                                                         engine sync interval of the state
//                                                         machines, in applied entries),
//                 preferred_leader ("": none)            a node that leads every group it can
//                                                         (a leader elsewhere hands it over)
//
// The process the raft plugin's multi-process tests and benchmark run, three or five of them on
// loopback: it founds every group g0..g<groups-1> with all peers as voters on its first start
// (replica i+1 is the i-th peer) and reopens them from disk afterwards; a data directory that
// was founded once and lost a group refuses to start rather than found it again. The CP
// profile's node does the same work with ranges and a metadata service; this host is its
// smallest stand-in.
//
// Prints "tessera-raft-host <id> listening on <address>" once it serves, and a line per leader
// change ("tessera-raft-host <id>: <group> leader <node> term <t>") and per snapshot restored
// ("tessera-raft-host <id> <group>: restored a snapshot at index <n>"), and the plugin's
// counters when it stops ("tessera-raft-host <id> stats: name=value ..."). Exit codes: 0 after
// SIGINT/SIGTERM, 1 runtime failure, 2 bad command line, config or plugins.
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "group_host_service.h"
#include "kv_state_machine.h"
#include "tessera/config.h"
#include "tessera/engine.h"
#include "tessera/membership.h"
#include "tessera/plugin_loader.h"

namespace {

namespace fs = std::filesystem;
using namespace tessera;

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;
constexpr int64_t kGroupsMax = 1024;

int fail(int code, const Status& status) {
  std::cerr << "tessera-raft-host: " << status.to_string() << std::endl;
  return code;
}

struct Peer {
  NodeId id;
  std::string address;
};

struct HostConfig {
  NodeId id;
  std::string listen;
  fs::path data_dir;
  std::string engine;
  ConfigSection engine_config;
  std::string membership;
  ConfigSection membership_config;
  std::vector<Peer> peers;
  size_t groups = 8;
  uint32_t timeout_ms = 5000;
  uint64_t sync_every_entries = 4096;
  NodeId preferred_leader;
};

Result<HostConfig> parse_host_config(const ConfigSection& root) {
  HostConfig c;
  TESSERA_ASSIGN_OR_RETURN(ConfigSection node, root.section("node"));
  TESSERA_ASSIGN_OR_RETURN(c.id, node.get_string("id", ""));
  TESSERA_ASSIGN_OR_RETURN(c.listen, node.get_string("listen", ""));
  TESSERA_ASSIGN_OR_RETURN(c.data_dir, node.get_path("data_dir", ""));
  if (c.id.empty() || c.listen.empty() || c.data_dir.empty()) {
    return Status::invalid_argument(node.where() + ": id, listen and data_dir are required");
  }
  TESSERA_ASSIGN_OR_RETURN(ConfigSection engine, root.section("engine"));
  TESSERA_ASSIGN_OR_RETURN(c.engine, engine.get_string("plugin", "lsm"));
  TESSERA_ASSIGN_OR_RETURN(c.engine_config, engine.section("config"));
  TESSERA_ASSIGN_OR_RETURN(ConfigSection membership, root.section("membership"));
  TESSERA_ASSIGN_OR_RETURN(c.membership, membership.get_string("plugin", "raft"));
  TESSERA_ASSIGN_OR_RETURN(c.membership_config, membership.section("config"));
  TESSERA_ASSIGN_OR_RETURN(ConfigSection host, root.section("raft_host"));
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> peers, host.get_string_list("peers"));
  for (const std::string& item : peers) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return Status::invalid_argument(host.where("peers") + ": '" + item + "' is not id=host:port");
    }
    c.peers.push_back({item.substr(0, eq), item.substr(eq + 1)});
  }
  if (c.peers.empty()) return Status::invalid_argument(host.where("peers") + ": no peers");
  TESSERA_ASSIGN_OR_RETURN(int64_t groups, host.get_int("groups", 8, 1, kGroupsMax));
  TESSERA_ASSIGN_OR_RETURN(int64_t timeout_ms, host.get_int("timeout_ms", 5000, 1, 600000));
  TESSERA_ASSIGN_OR_RETURN(int64_t sync_every,
                           host.get_int("sync_every_entries", 4096, 1, 1 << 30));
  c.sync_every_entries = static_cast<uint64_t>(sync_every);
  TESSERA_ASSIGN_OR_RETURN(c.preferred_leader, host.get_string("preferred_leader", ""));
  c.groups = static_cast<size_t>(groups);
  c.timeout_ms = static_cast<uint32_t>(timeout_ms);
  return c;
}

fs::path default_plugin_dir() {
  std::error_code error;
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return (exe.parent_path() / TESSERA_PLUGIN_DIR_FROM_BIN).lexically_normal();
}

// Founds every group on the first start; reopens them afterwards.
Status open_groups(ReplicationGroups& groups, const std::vector<Peer>& peers, size_t self,
                   const std::vector<raft_host::HostedGroup>& hosted, const fs::path& marker) {
  const bool founded = fs::exists(marker);
  std::map<GroupId, ReplicaId> on_disk;
  for (const auto& [group, replica] : groups.groups_on_disk()) on_disk[group] = replica;
  std::vector<Replica> voters;
  for (size_t i = 0; i < peers.size(); ++i) voters.push_back({i + 1, peers[i].id});
  for (const raft_host::HostedGroup& group : hosted) {
    if (on_disk.count(group.name) != 0) {
      TESSERA_RETURN_IF_ERROR(groups.open_group(group.name, group.state));
    } else if (founded) {
      return Status::corruption("group " + group.name +
                                " was founded here but is not on disk: refusing to found it "
                                "again (the data directory lost its raft log)");
    } else {
      TESSERA_RETURN_IF_ERROR(groups.found_group(group.name, voters[self], voters, 0, group.state));
    }
  }
  if (!founded) std::ofstream(marker) << "founded\n";
  return Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked signal mask.
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGTERM);

  CLI::App app{"Tessera raft host: the raft plugin's groups behind the client API"};
  std::string config_file;
  app.add_option("--config,-c", config_file, "TOML config file")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int printed = app.exit(e);
    return printed == 0 ? 0 : kExitConfig;
  }
  auto file = ConfigFile::load(config_file);
  if (!file.is_ok()) return fail(kExitConfig, file.status());
  auto config = parse_host_config((*file)->root());
  if (!config.is_ok()) return fail(kExitConfig, config.status());
  const std::string& id = config->id;
  const std::vector<Peer>& peer_list = config->peers;
  size_t self = peer_list.size();
  std::map<NodeId, std::string> addresses;
  for (size_t i = 0; i < peer_list.size(); ++i) {
    addresses[peer_list[i].id] = peer_list[i].address;
    if (peer_list[i].id == id) self = i;
  }
  if (self == peer_list.size()) {
    return fail(kExitConfig,
                Status::invalid_argument("[node] id " + id + " is not in [raft_host] peers"));
  }
  if (peer_list[self].address != config->listen) {
    return fail(kExitConfig,
                Status::invalid_argument("[node] listen " + config->listen + " is not " + id +
                                         "'s address in [raft_host] peers (" +
                                         peer_list[self].address + ")"));
  }

  const fs::path root = config->data_dir;
  std::error_code error;
  fs::create_directories(root / "engine", error);
  fs::create_directories(root / "raft", error);
  PluginLoader loader({default_plugin_dir()});
  auto engine = loader.make_engine(config->engine, {id, root / "engine"}, config->engine_config);
  if (!engine.is_ok()) return fail(kExitConfig, engine.status());
  auto membership =
      loader.make_membership(config->membership, {id, root / "raft"}, config->membership_config);
  if (!membership.is_ok()) return fail(kExitConfig, membership.status());
  ReplicationGroups* groups = (*membership)->replication_groups();
  if (groups == nullptr) {
    return fail(kExitConfig, Status::invalid_argument("the raft plugin runs no groups"));
  }
  groups->set_resolver([peer_list](const GroupId&, ReplicaId replica) -> std::optional<NodeInfo> {
    if (replica == 0 || replica > peer_list.size()) return std::nullopt;
    const Peer& p = peer_list[replica - 1];
    return NodeInfo{p.id, p.address, "", NodeState::kAlive};
  });

  // Leadership changes on stdout, for the tests and for whoever watches the process. A leader
  // that is not the preferred one hands the group over to it.
  ReplicaId preferred = 0;
  for (size_t i = 0; i < peer_list.size(); ++i) {
    if (peer_list[i].id == config->preferred_leader) preferred = i + 1;
  }
  if (!config->preferred_leader.empty() && preferred == 0) {
    return fail(kExitConfig,
                Status::invalid_argument("[raft_host] preferred_leader " +
                                         config->preferred_leader + " is not in peers"));
  }
  auto leaders = std::make_shared<raft_host::Leaders>();  // the listener keeps it alive
  groups->subscribe_leaders([id, preferred, groups, leaders](const LeaderChange& change) {
    leaders->set(change.group, change.leader ? change.leader->node : NodeId());
    std::printf("tessera-raft-host %s: %s leader %s term %llu\n", id.c_str(), change.group.c_str(),
                change.leader ? change.leader->node.c_str() : "(none)",
                static_cast<unsigned long long>(change.term));
    std::fflush(stdout);
    if (preferred != 0 && change.leader && change.leader->node == id &&
        change.leader->id != preferred) {
      (void)groups->transfer_leadership(change.group, preferred);
    }
  });

  std::vector<std::unique_ptr<raft_host::KvStateMachine>> states;
  std::vector<raft_host::HostedGroup> hosted;
  for (size_t g = 0; g < config->groups; ++g) {
    const std::string name = "g" + std::to_string(g);
    auto state = raft_host::KvStateMachine::open(engine->get(), name, config->sync_every_entries,
                                                 "tessera-raft-host " + id + " " + name);
    if (!state.is_ok()) return fail(kExitRuntime, state.status());
    hosted.push_back({name, state->get()});
    states.push_back(std::move(state).value());
  }
  Status joined = (*membership)->join(NodeInfo{id, config->listen, "", NodeState::kAlive});
  if (!joined.is_ok()) return fail(kExitRuntime, joined);
  Status opened = open_groups(*groups, peer_list, self, hosted, root / "founded");
  if (!opened.is_ok()) return fail(kExitRuntime, opened);

  int exit_code = 0;
  try {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    const std::string& address = config->listen;
    const size_t colon = address.rfind(':');
    capnp::TwoPartyServer server(kj::heap<raft_host::GroupHostService>(
        id, membership->get(), hosted, addresses, leaders.get(), &io.provider->getTimer(),
        config->timeout_ms));
    auto listen_address =
        io.provider->getNetwork()
            .parseAddress(address.substr(0, colon), std::stoi(address.substr(colon + 1)))
            .wait(io.waitScope);
    kj::Own<kj::ConnectionReceiver> listener = listen_address->listen();
    kj::Promise<void> accepting = server.listen(*listener);
    std::cout << "tessera-raft-host " << id << " listening on " << address << std::endl;
    auto stop = io.unixEventPort.onSignal(SIGINT).exclusiveJoin(io.unixEventPort.onSignal(SIGTERM));
    accepting.then([]() { return siginfo_t{}; }).exclusiveJoin(kj::mv(stop)).wait(io.waitScope);
  } catch (const kj::Exception& e) {
    std::cerr << "tessera-raft-host: " << e.getDescription().cStr() << std::endl;
    exit_code = kExitRuntime;
  }
  std::printf("tessera-raft-host %s stats:", id.c_str());
  for (const auto& [name, value] : groups->stats()) std::printf(" %s=%.0f", name.c_str(), value);
  std::printf("\n");
  std::fflush(stdout);
  for (const raft_host::HostedGroup& group : hosted) (void)groups->close_group(group.name);
  membership->reset();  // the groups stop before their state machines and the engine go
  states.clear();
  Status synced = (*engine)->sync();
  if (!synced.is_ok() && exit_code == 0) return fail(kExitRuntime, synced);
  return exit_code;
}
