#include "test_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

namespace tessera::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kReadyPollInterval{10};
// A first start that loses its reserved port to another process gets this many fresh ports.
constexpr int kFirstStartAttempts = 3;
constexpr int kPortReservationAttempts = 16;
constexpr size_t kLogTailBytes = 64 * 1024;
constexpr size_t kMessageTailBytes = 4 * 1024;

std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// Inserts `keys` after the line `header` of `text`; false when there is no such line.
bool insert_after_header(std::string& text, std::string_view header, const std::string& keys) {
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    if (trim(std::string_view(text).substr(line_start, line_end - line_start)) == header) {
      text.insert(std::min(line_end + 1, text.size()), (line_end == text.size() ? "\n" : "") + keys);
      return true;
    }
    line_start = line_end + 1;
  }
  return false;
}

// Whether a config names a distributed profile, which needs a cluster secret.
bool names_distributed_profile(const std::string& text) {
  static const std::regex kProfile(R"re((^|\n)\s*profile\s*=\s*"(dynamo|leader)")re");
  return std::regex_search(text, kProfile);
}

// Finds `<program> <id> listening on <host>:<port>` in the node's stdout; returns the address.
std::optional<std::string> find_ready_line(const std::string& out, const std::string& program,
                                           const std::string& id) {
  const std::string prefix = program + " " + id + " listening on ";
  size_t line_start = 0;
  while (line_start < out.size()) {
    size_t line_end = out.find('\n', line_start);
    // Only complete lines: the node may be halfway through writing this one.
    if (line_end == std::string::npos) break;
    const std::string line = trim(std::string_view(out).substr(line_start, line_end - line_start));
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    line_start = line_end + 1;
  }
  return std::nullopt;
}

bool keep_test_dirs() {
  const char* keep = std::getenv("TESSERA_KEEP_TEST_DIRS");
  return keep != nullptr && std::string(keep) == "1";
}

}  // namespace

struct TestCluster::Node {
  std::string id;
  uint16_t port = 0;
  std::string address;
  std::string config_template;
  fs::path dir;
  std::unique_ptr<Process> process;
  bool paused = false;
  int starts = 0;
};

Result<uint16_t> reserve_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::io_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  Status status;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    status = Status::io_error(std::string("reserve port: ") + std::strerror(errno));
  }
  ::close(fd);
  if (!status.is_ok()) return status;
  return static_cast<uint16_t>(ntohs(address.sin_port));
}

TestCluster::TestCluster(Options options) : options_(std::move(options)) {
  TESSERA_REQUIRE(!options_.node_binary.empty(), "TestCluster needs Options::node_binary");
  Result<fs::path> root = make_temp_dir("tessera-cluster-");
  TESSERA_REQUIRE(root.is_ok(), "cannot make the cluster's temporary folder");
  root_ = std::move(root).value();
  // A fresh random secret per cluster, readable by its owner only, as an operator makes one.
  std::random_device random;
  std::string secret;
  for (int i = 0; i < 32; ++i) secret += "0123456789abcdef"[random() % 16];
  {
    std::ofstream out(cluster_secret_file(), std::ios::trunc);
    out << secret << "\n";
    TESSERA_REQUIRE(static_cast<bool>(out), "cannot write the cluster secret file");
  }
  fs::permissions(cluster_secret_file(), fs::perms::owner_read | fs::perms::owner_write);
}

TestCluster::~TestCluster() {
  for (size_t i = 0; i < nodes_.size(); ++i) kill_node(i);
  if (::testing::Test::HasFailure() && !nodes_.empty()) {
    std::cerr << describe_logs() << std::flush;
  }
  if (keep_test_dirs()) {
    std::cerr << "TestCluster: kept " << root_.string() << "\n";
    return;
  }
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

TestCluster::Node& TestCluster::node(size_t index) {
  TESSERA_REQUIRE(index < nodes_.size(), "no node with this index");
  return *nodes_[index];
}

const TestCluster::Node& TestCluster::node(size_t index) const {
  TESSERA_REQUIRE(index < nodes_.size(), "no node with this index");
  return *nodes_[index];
}

size_t TestCluster::add_node(std::optional<std::string> config_template) {
  auto added = std::make_unique<Node>();
  const size_t index = nodes_.size();
  added->id = "n" + std::to_string(index + 1);
  added->dir = root_ / added->id;
  added->config_template = config_template.value_or(options_.config_template);
  for (int attempt = 0; attempt < kPortReservationAttempts && added->port == 0; ++attempt) {
    Result<uint16_t> port = reserve_loopback_port();
    TESSERA_REQUIRE(port.is_ok(), "cannot reserve a loopback port");
    bool taken = false;
    for (const auto& other : nodes_) taken = taken || other->port == *port;
    if (!taken) added->port = *port;
  }
  TESSERA_REQUIRE(added->port != 0, "no distinct loopback port after many attempts");
  added->address = "127.0.0.1:" + std::to_string(added->port);
  std::error_code error;
  fs::create_directories(added->dir / "data", error);
  TESSERA_REQUIRE(!error, "cannot make a node folder");
  nodes_.push_back(std::move(added));
  return index;
}

Status TestCluster::start(size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const size_t index = add_node();
    TESSERA_RETURN_IF_ERROR(start_node(index));
  }
  return Status::ok();
}

std::string TestCluster::render_config(size_t index, const std::string& config_template) const {
  const Node& n = node(index);
  std::string text = config_template;
  const bool caller_places_keys = text.find("{{id}}") != std::string::npos ||
                                  text.find("{{listen}}") != std::string::npos ||
                                  text.find("{{data_dir}}") != std::string::npos;
  replace_all(text, "{{id}}", n.id);
  replace_all(text, "{{listen}}", "127.0.0.1:" + std::to_string(n.port));
  replace_all(text, "{{data_dir}}", (n.dir / "data").string());
  replace_all(text, "{{node_dir}}", n.dir.string());
  replace_all(text, "{{index}}", std::to_string(index));
  replace_all(text, "{{cluster_secret_file}}", cluster_secret_file().string());
  for (size_t k = 0; k < nodes_.size(); ++k) {
    replace_all(text, "{{addr:" + std::to_string(k) + "}}", nodes_[k]->address);
  }
  TESSERA_REQUIRE(text.find("{{") == std::string::npos,
                  "config template has an unknown placeholder or {{addr:K}} past the last node");
  // Nodes of a distributed profile share the cluster's secret, unless the template names one.
  if (options_.ready_program == "tessera-node" && names_distributed_profile(text) &&
      text.find("cluster_secret_file") == std::string::npos) {
    const std::string secret_key =
        "cluster_secret_file = " + toml_string(cluster_secret_file().string()) + "\n";
    if (!insert_after_header(text, "[security]", secret_key)) {
      if (!text.empty() && text.back() != '\n') text += '\n';
      text += "\n[security]\n" + secret_key;
    }
  }
  if (caller_places_keys) return text;

  const std::string keys = "id = " + toml_string(n.id) + "\n" +
                           "listen = " + toml_string("127.0.0.1:" + std::to_string(n.port)) +
                           "\n" + "data_dir = " + toml_string((n.dir / "data").string()) + "\n";
  if (insert_after_header(text, "[node]", keys)) return text;
  // At the end, not the start: keys before the first header belong to the root table.
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text + "\n[node]\n" + keys;
}

Status TestCluster::start_node(size_t index) {
  Node& n = node(index);
  if (n.process != nullptr && n.process->running()) {
    return Status::invalid_argument("node " + n.id + " is running already");
  }
  Status status;
  for (int attempt = 0; attempt < kFirstStartAttempts; ++attempt) {
    status = spawn_and_wait(index);
    if (status.is_ok() || n.starts > 1) return status;
    // Only a first start may move: a restart must keep the address peers know.
    if (status.message().find("in use") == std::string::npos) return status;
    Result<uint16_t> port = reserve_loopback_port();
    if (!port.is_ok()) return status;
    n.port = *port;
    n.address = "127.0.0.1:" + std::to_string(n.port);
    n.starts = 0;
  }
  return status;
}

Status TestCluster::spawn_and_wait(size_t index) {
  Node& n = node(index);
  ++n.starts;
  n.paused = false;
  {
    std::ofstream config(config_path(index), std::ios::trunc);
    config << render_config(index, n.config_template);
    if (!config) return Status::io_error("cannot write " + config_path(index).string());
  }
  const fs::path stdout_path = n.dir / "stdout.log";
  std::error_code ignored;
  fs::remove(stdout_path, ignored);
  const uintmax_t stderr_offset = fs::exists(stderr_path(index))
                                      ? fs::file_size(stderr_path(index), ignored) : 0;
  {
    std::ofstream marker(stderr_path(index), std::ios::app);
    marker << "---- harness: start " << n.starts << " of " << n.id << " on " << n.address
           << " ----\n";
  }

  ProcessSpec spec;
  spec.argv = {options_.node_binary.string(), "--config", config_path(index).string()};
  if (!options_.log_level.empty()) {
    spec.argv.push_back("--log-level");
    spec.argv.push_back(options_.log_level);
  }
  spec.stdout_path = stdout_path;
  spec.stderr_path = stderr_path(index);
  spec.append_output = true;
  Result<std::unique_ptr<Process>> process = Process::spawn(spec);
  if (!process.is_ok()) return process.status();
  n.process = std::move(process).value();

  auto stderr_since_start = [&]() {
    std::string all = read_file(stderr_path(index));
    all = all.size() > stderr_offset ? all.substr(stderr_offset) : std::string();
    if (all.size() > kMessageTailBytes) all = "[...]" + all.substr(all.size() - kMessageTailBytes);
    return all;
  };
  const auto deadline = Clock::now() + options_.start_timeout;
  const int64_t polls_max = options_.start_timeout / kReadyPollInterval + 1;
  for (int64_t poll = 0; poll <= polls_max; ++poll) {
    if (std::optional<std::string> address = find_ready_line(read_file(stdout_path),
                                                                options_.ready_program, n.id)) {
      n.address = *address;
      return Status::ok();
    }
    if (!n.process->running()) {
      return Status::unavailable("node " + n.id + " (" + n.address + ") exited before it was " +
                                 "ready: " + n.process->exit_status()->to_string() +
                                 "; stderr:\n" + stderr_since_start());
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kReadyPollInterval);
  }
  n.process->kill();
  return Status::unavailable("node " + n.id + " (" + n.address + ") printed no ready line in " +
                             std::to_string(options_.start_timeout.count()) +
                             " ms; stdout:\n" + read_file_tail(stdout_path, kMessageTailBytes) +
                             "\nstderr:\n" + stderr_since_start());
}

Status TestCluster::restart_node(size_t index) {
  kill_node(index);
  return start_node(index);
}

std::optional<ExitStatus> TestCluster::kill_node(size_t index) {
  Node& n = node(index);
  if (n.process == nullptr) return std::nullopt;
  n.paused = false;
  return n.process->kill();
}

Status TestCluster::signal_node(size_t index, int signal) {
  Node& n = node(index);
  if (n.process == nullptr || !n.process->running()) {
    return Status::invalid_argument("node " + n.id + " is not running");
  }
  return n.process->send_signal(signal);
}

Status TestCluster::pause_node(size_t index) {
  TESSERA_RETURN_IF_ERROR(signal_node(index, SIGSTOP));
  node(index).paused = true;
  return Status::ok();
}

Status TestCluster::resume_node(size_t index) {
  TESSERA_RETURN_IF_ERROR(signal_node(index, SIGCONT));
  node(index).paused = false;
  return Status::ok();
}

Result<ExitStatus> TestCluster::terminate_node(size_t index) {
  Node& n = node(index);
  TESSERA_RETURN_IF_ERROR(signal_node(index, SIGTERM));
  // A stopped process keeps SIGTERM pending until it runs again.
  if (n.paused) TESSERA_RETURN_IF_ERROR(resume_node(index));
  Result<ExitStatus> status = n.process->wait(options_.stop_timeout);
  if (!status.is_ok()) {
    n.process->kill();
    return Status::timeout("node " + n.id + " did not exit within " +
                           std::to_string(options_.stop_timeout.count()) + " ms of SIGTERM");
  }
  return status;
}

Result<ExitStatus> TestCluster::wait_node_exit(size_t index, std::chrono::milliseconds timeout) {
  Node& n = node(index);
  if (n.process == nullptr) return Status::invalid_argument("node " + n.id + " never started");
  return n.process->wait(timeout);
}

bool TestCluster::running(size_t index) {
  Node& n = node(index);
  return n.process != nullptr && n.process->running();
}

Status TestCluster::limit_descriptors(size_t index, uint64_t count) {
  if (!running(index)) return Status::invalid_argument("node " + node(index).id + " is not running");
  const struct rlimit limit{count, count};
  if (::prlimit(node(index).process->pid(), RLIMIT_NOFILE, &limit, nullptr) != 0) {
    return Status::io_error(std::string("prlimit: ") + std::strerror(errno));
  }
  return Status::ok();
}

Result<size_t> TestCluster::memory_figure(size_t index, const std::string& field) {
  if (!running(index)) return Status::invalid_argument("node " + node(index).id + " is not running");
  std::ifstream status("/proc/" + std::to_string(node(index).process->pid()) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field, 0) == 0) return size_t{std::stoull(line.substr(field.size()))} * 1024;
  }
  return Status::internal("no " + field + " line in /proc/<pid>/status of node " + node(index).id);
}

Result<size_t> TestCluster::peak_rss_bytes(size_t index) { return memory_figure(index, "VmHWM:"); }
Result<size_t> TestCluster::rss_bytes(size_t index) { return memory_figure(index, "VmRSS:"); }

const std::string& TestCluster::address(size_t index) const { return node(index).address; }
const std::string& TestCluster::node_id(size_t index) const { return node(index).id; }

std::optional<ExitStatus> TestCluster::last_exit(size_t index) const {
  const Node& n = node(index);
  if (n.process == nullptr) return std::nullopt;
  return n.process->exit_status();
}

fs::path TestCluster::node_dir(size_t index) const { return node(index).dir; }
fs::path TestCluster::data_dir(size_t index) const { return node(index).dir / "data"; }
fs::path TestCluster::config_path(size_t index) const {
  return node(index).dir / "config.toml";
}
fs::path TestCluster::stderr_path(size_t index) const { return node(index).dir / "stderr.log"; }
std::string TestCluster::stderr_text(size_t index) const {
  return read_file(stderr_path(index));
}

std::string TestCluster::describe_logs() const {
  std::string out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    out += "==== " + nodes_[i]->id + " (" + nodes_[i]->address + ") " +
           stderr_path(i).string() + " ====\n";
    out += read_file_tail(stderr_path(i), kLogTailBytes);
    if (!out.empty() && out.back() != '\n') out += '\n';
  }
  return out;
}

Result<CommandResult> TestCluster::run_node(const std::vector<std::string>& args,
                                            std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {options_.node_binary.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, "", timeout);
}

}  // namespace tessera::test
