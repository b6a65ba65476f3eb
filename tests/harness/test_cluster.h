// TestCluster: N `tessera-node` processes on loopback, for end-to-end and fault tests.
//
// Each node gets its own temporary folder (`<root>/n<k>/`) holding its generated config
// (`config.toml`), its data directory (`data/`), and its captured output (`stdout.log`,
// `stderr.log`; stderr is appended across restarts with a marker line per start). Every node
// listens on 127.0.0.1 on a port reserved when the node is added, and keeps that port and its
// data directory across restarts.
//
// Configs come from a TOML template (Options::config_template, or one per node). Placeholders:
//   {{id}} "n1", "n2", ...        {{listen}} "127.0.0.1:<port>"     {{data_dir}} absolute path
//   {{node_dir}} absolute path     {{index}} 0, 1, ...               {{addr:K}} node K's address
//   {{cluster_secret_file}} the cluster's secret file (below)
// When the template uses none of {{id}}, {{listen}} and {{data_dir}}, the harness writes
// `id`, `listen` and `data_dir` as the first keys of `[node]` (adding that section when the
// template has none), so a template usually holds only the plugin sections.
//
// The cluster has a random secret of its own (`<root>/cluster.secret`, mode 0600), and a
// tessera-node template that names a distributed profile (dynamo, leader) but no
// `cluster_secret_file` gets `[security] cluster_secret_file` set to it, so that its nodes
// authenticate each other as a real cluster's do.
//
// Starting a node waits (bounded by Options::start_timeout) for its ready line on stdout,
// `tessera-node <id> listening on <host>:<port>`; a node that exits or stays silent instead
// fails the start with its stderr in the message.
//
// Cleanup: the destructor SIGKILLs every node still running, prints each node's stderr when
// the current GoogleTest test has failed, and removes the temporary folders (kept when the
// environment sets TESSERA_KEEP_TEST_DIRS=1). Nodes also die with the test process (see
// process.h), so create the cluster on the thread that runs the test.
//
// Thread-safety: not thread-safe; use a TestCluster from the thread that created it. Clients
// on other threads may talk to its nodes freely.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.h"
#include "tessera/status.h"

namespace tessera::test {

// Plugin sections of a single node on the memory engine with last-write-wins.
inline constexpr const char* kMemoryNodeConfig =
    "[engine]\n"
    "plugin = \"memory\"\n"
    "\n"
    "[conflict]\n"
    "plugin = \"lww\"\n";

class TestCluster {
 public:
  struct Options {
    std::filesystem::path node_binary;  // REQUIRES: the tessera-node executable
    // The first word of the ready line (`<ready_program> <id> listening on <host>:<port>`):
    // another host that takes `--config FILE` and prints such a line runs under the harness too
    // (tessera-raft-host).
    std::string ready_program = "tessera-node";
    std::string config_template = kMemoryNodeConfig;
    std::string log_level;  // passed as --log-level when not empty
    std::chrono::milliseconds start_timeout{10'000};
    std::chrono::milliseconds stop_timeout{10'000};
  };

  // Makes the temporary root folder; starts nothing. Aborts the test binary (TESSERA_REQUIRE)
  // when no folder can be made: nothing sensible can follow.
  explicit TestCluster(Options options);
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;
  ~TestCluster();

  // Adds a node (not started) with the cluster's template or `config_template`; reserves its
  // port. Returns its index.
  size_t add_node(std::optional<std::string> config_template = std::nullopt);

  // Adds `count` nodes and starts them in order; stops at the first failure.
  Status start(size_t count);

  // Starts node `index` (first start, or again after kill/terminate) and waits until it serves.
  // InvalidArgument when it runs already; Unavailable (with its stderr) when it exits or does
  // not get ready within start_timeout, after which it is not running.
  Status start_node(size_t index);

  // SIGKILL (if it runs) then start_node: same data directory, same port.
  Status restart_node(size_t index);

  // SIGKILL and reap. Not an error when the node is not running. Returns how it ended.
  std::optional<ExitStatus> kill_node(size_t index);

  // SIGSTOP / SIGCONT. InvalidArgument when the node is not running.
  Status pause_node(size_t index);
  Status resume_node(size_t index);

  // SIGTERM (and SIGCONT when paused) and wait up to stop_timeout for a clean exit. Timeout
  // when it does not exit in time (it is SIGKILLed then); InvalidArgument when not running.
  Result<ExitStatus> terminate_node(size_t index);

  // Sends any signal. InvalidArgument when the node is not running.
  Status signal_node(size_t index, int signal);

  // Waits up to `timeout` for a node that should exit on its own.
  Result<ExitStatus> wait_node_exit(size_t index, std::chrono::milliseconds timeout);

  size_t size() const { return nodes_.size(); }
  bool running(size_t index);
  // Lowers the running node's limit of open descriptors (soft and hard) to `count`, as a system
  // that gives it no more would (prlimit). InvalidArgument when it is not running.
  Status limit_descriptors(size_t index, uint64_t count);
  // The node's peak resident memory so far (VmHWM), in bytes. InvalidArgument when it is not
  // running.
  Result<size_t> peak_rss_bytes(size_t index);
  // Its resident memory now (VmRSS), in bytes.
  Result<size_t> rss_bytes(size_t index);
  const std::string& address(size_t index) const;  // "127.0.0.1:<port>"
  const std::string& node_id(size_t index) const;  // "n1", "n2", ...
  std::optional<ExitStatus> last_exit(size_t index) const;
  std::filesystem::path node_dir(size_t index) const;
  std::filesystem::path data_dir(size_t index) const;
  std::filesystem::path config_path(size_t index) const;
  std::filesystem::path stderr_path(size_t index) const;
  std::string stderr_text(size_t index) const;
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path cluster_secret_file() const { return root_ / "cluster.secret"; }
  const Options& options() const { return options_; }

  // Every node's stderr (the tail of each), for a failure message.
  std::string describe_logs() const;

  // Runs tessera-node with `args` (no --config added) to completion, for tests of a node that
  // must refuse to start. Timeout (and SIGKILL) when it is still running after `timeout`.
  Result<CommandResult> run_node(const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout);

  // Renders `config_template` for node `index` (exposed for tests of the harness).
  std::string render_config(size_t index, const std::string& config_template) const;

 private:
  struct Node;

  // A figure of /proc/<pid>/status in kB ("VmRSS:"), in bytes.
  Result<size_t> memory_figure(size_t index, const std::string& field);
  Node& node(size_t index);
  const Node& node(size_t index) const;
  Status spawn_and_wait(size_t index);

  Options options_;
  std::filesystem::path root_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// A free TCP port on 127.0.0.1: bound with port 0, read back, closed. Another process may take
// it before the caller binds it; the harness retries a first start that fails that way.
Result<uint16_t> reserve_loopback_port();

}  // namespace tessera::test
