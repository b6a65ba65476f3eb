// tessera_crash_test: kill -9 an engine at random moments and check what survives.
//
// Each cycle forks and execs tessera_crash_writer on one data directory, lets its writer threads
// write synced batches for a random while (sometimes killing it before or while it opens, i.e.
// during recovery), SIGKILLs it, reopens the engine in this process and checks, per thread t:
//  - every batch the child reported as acknowledged is present (P_t >= acknowledged_t),
//  - batches present form a prefix [0, P_t) that never shrinks, and
//  - a full scan equals, key for key and in order, the model of every thread's batches
//    [0, P_t): no half batch, no lost overwrite or delete, no reordering.
// One seed drives the whole run; it is printed as TESSERA_SEED=<n> and read back from the
// environment variable TESSERA_SEED to replay a failure.
//
//   tessera_crash_test --writer=<exe> --plugin=<file.so> [--config=<toml>] [--cycles=<n>]
//                      [--threads=<n>] [--acknowledge=sync|async]
// --acknowledge=async: the child acknowledges from Engine::sync_async callbacks (crash_writer.cc).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "tessera/config.h"
#include "tessera/engine.h"
#include "tessera/plugin_loader.h"
#include "workload.h"

namespace {

using namespace tessera;
namespace fs = std::filesystem;

std::string flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

// Reads what is available on fd into *buffer, waiting up to timeout_ms for the first byte.
// Returns false at end of file.
bool read_some(int fd, std::string* buffer, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return true;
  char chunk[4096];
  ssize_t n = ::read(fd, chunk, sizeof(chunk));
  if (n <= 0) return false;
  buffer->append(chunk, static_cast<size_t>(n));
  return true;
}

struct Run {
  fs::path writer, plugin, config_path, dir;
  std::string acknowledge = "sync";
  uint64_t seed = 0;
  std::unique_ptr<ConfigFile> config_file;
  ConfigSection config;
  std::map<std::string, std::string> model;
  std::vector<uint64_t> present;  // P_t: batches [0, P_t) of thread t are in the engine
};

std::string join(const std::vector<uint64_t>& values) {
  std::string out;
  for (uint64_t v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
  return out;
}

// Spawns the writer with thread t starting at run.present[t] and kills it at a random moment.
// Returns, per thread, the number of batches acknowledged (1 + the highest reported), or its
// start when it acknowledged none.
std::vector<uint64_t> run_child(Run& run, std::mt19937_64& rng, bool* ok) {
  std::vector<uint64_t> acknowledged = run.present;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("pipe");
    *ok = false;
    return acknowledged;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 3);  // the report fd, kept across exec
    std::vector<std::string> args = {run.writer.string(),
                                     "--plugin=" + run.plugin.string(),
                                     "--dir=" + run.dir.string(),
                                     "--seed=" + std::to_string(run.seed),
                                     "--start=" + join(run.present),
                                     "--report-fd=3",
                                     "--acknowledge=" + run.acknowledge};
    if (!run.config_path.empty()) args.push_back("--config=" + run.config_path.string());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::perror("execv");
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string reported;
  auto started = std::chrono::steady_clock::now();
  if (rng() % 4 == 0) {
    // Early: often before or during the child's recovery.
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30000));
  } else {
    while (reported.find("open\n") == std::string::npos &&
           std::chrono::steady_clock::now() - started < std::chrono::seconds(20)) {
      if (!read_some(fds[0], &reported, 100)) break;
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 100000);
    while (std::chrono::steady_clock::now() < until) read_some(fds[0], &reported, 5);
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (read_some(fds[0], &reported, 1000)) {
  }
  ::close(fds[0]);
  if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
    std::fprintf(stderr, "writer ended by itself (status %d) instead of being killed\n", status);
    *ok = false;
  }
  size_t pos = 0;
  while (pos < reported.size()) {
    size_t end = reported.find('\n', pos);
    if (end == std::string::npos) break;  // a line cut by the kill was never acknowledged
    std::string line = reported.substr(pos, end - pos);
    pos = end + 1;
    if (line == "open") continue;
    size_t space = line.find(' ');
    uint64_t t = std::stoull(line.substr(0, space));
    uint64_t b = std::stoull(line.substr(space + 1));
    if (t >= acknowledged.size()) {
      std::fprintf(stderr, "writer reported unknown thread %llu\n",
                   static_cast<unsigned long long>(t));
      *ok = false;
      continue;
    }
    acknowledged[t] = std::max<uint64_t>(acknowledged[t], b + 1);
  }
  return acknowledged;
}

std::string describe_difference(const std::map<std::string, std::string>& model,
                                const std::vector<std::pair<std::string, std::string>>& scan) {
  size_t i = 0;
  auto m = model.begin();
  for (; i < scan.size() && m != model.end(); ++i, ++m) {
    if (scan[i].first != m->first)
      return "key #" + std::to_string(i) + ": engine has '" + scan[i].first + "', model has '" +
             m->first + "'";
    if (scan[i].second != m->second) return "value of '" + m->first + "' differs";
  }
  if (i < scan.size()) return "engine has extra key '" + scan[i].first + "'";
  if (m != model.end()) return "engine lacks key '" + m->first + "'";
  return "";
}

// Reopens the engine and checks it against the model. Advances run.present and the model.
bool verify(Run& run, const std::vector<uint64_t>& acknowledged, int cycle) {
  PluginLoader loader({run.plugin.parent_path()});
  PluginContext context{.node_id = "crash-test", .data_dir = run.dir};
  auto engine = loader.make_engine(run.plugin.string(), context, run.config);
  if (!engine.is_ok()) {
    std::fprintf(stderr, "cycle %d: reopen failed: %s\n", cycle,
                 engine.status().to_string().c_str());
    return false;
  }
  // P_t = 1 + the highest marker of thread t.
  std::vector<uint64_t> present(run.present.size(), 0);
  for (uint64_t t = 0; t < present.size(); ++t) {
    IteratorOptions options;
    std::string prefix = crash::marker_prefix(t);
    options.upper_bound = prefix.substr(0, prefix.size() - 1) + "0";  // just past the prefix
    auto it = (*engine)->new_iterator(options);
    for (it->seek(prefix); it->valid(); it->next()) {
      present[t] = std::stoull(Bytes(it->value())) + 1;
    }
    if (!it->status().is_ok()) {
      std::fprintf(stderr, "cycle %d: %s\n", cycle, it->status().to_string().c_str());
      return false;
    }
    if (present[t] < acknowledged[t] || present[t] < run.present[t]) {
      std::fprintf(stderr,
                   "cycle %d: thread %llu lost acknowledged batches: %llu present, %llu "
                   "acknowledged, %llu present before\n",
                   cycle, static_cast<unsigned long long>(t),
                   static_cast<unsigned long long>(present[t]),
                   static_cast<unsigned long long>(acknowledged[t]),
                   static_cast<unsigned long long>(run.present[t]));
      return false;
    }
    for (uint64_t b = run.present[t]; b < present[t]; ++b) {
      crash::apply_to_model(run.seed, t, b, &run.model);
    }
  }
  run.present = present;
  std::vector<std::pair<std::string, std::string>> scan;
  auto it = (*engine)->new_iterator({});
  for (it->seek_to_first(); it->valid(); it->next()) scan.emplace_back(it->key(), it->value());
  if (!it->status().is_ok()) {
    std::fprintf(stderr, "cycle %d: scan: %s\n", cycle, it->status().to_string().c_str());
    return false;
  }
  std::string difference = describe_difference(run.model, scan);
  if (!difference.empty()) {
    std::fprintf(stderr, "cycle %d: engine differs from batches [0, {%s}): %s\n", cycle,
                 join(present).c_str(), difference.c_str());
    return false;
  }
  for (const auto& [key, value] : run.model) {
    auto got = (*engine)->get({}, key);
    if (!got.is_ok() || *got != value) {
      std::fprintf(stderr, "cycle %d: get('%s') disagrees with the scan\n", cycle, key.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  run.writer = flag(argc, argv, "writer", "");
  run.plugin = fs::absolute(flag(argc, argv, "plugin", ""));
  run.config_path = flag(argc, argv, "config", "");
  run.acknowledge = flag(argc, argv, "acknowledge", "sync");
  int cycles = std::stoi(flag(argc, argv, "cycles", "200"));
  uint64_t threads = std::stoull(flag(argc, argv, "threads", "1"));
  if (threads < 1 || threads > crash::kThreadsMax) {
    std::fprintf(stderr, "--threads must be 1..%llu\n",
                 static_cast<unsigned long long>(crash::kThreadsMax));
    return 2;
  }
  run.present.assign(threads, 0);
  const char* env_seed = std::getenv("TESSERA_SEED");
  run.seed = env_seed != nullptr ? std::stoull(env_seed) : std::random_device{}();
  std::printf("TESSERA_SEED=%llu\n", static_cast<unsigned long long>(run.seed));
  std::fflush(stdout);
  if (!run.config_path.empty()) {
    auto loaded = ConfigFile::load(run.config_path);
    if (!loaded.is_ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().to_string().c_str());
      return 2;
    }
    run.config_file = std::move(loaded).value();
    run.config = run.config_file->root();
  }
  run.dir = fs::temp_directory_path() /
            ("tessera-crash-" + std::to_string(::getpid()) + "-" + std::to_string(run.seed));
  fs::create_directories(run.dir);
  std::mt19937_64 rng(run.seed);
  auto started = std::chrono::steady_clock::now();
  uint64_t acknowledged_total = 0;
  bool ok = true;
  int cycle = 0;
  for (; cycle < cycles && ok; ++cycle) {
    std::vector<uint64_t> start = run.present;
    std::vector<uint64_t> acknowledged = run_child(run, rng, &ok);
    for (uint64_t t = 0; t < threads; ++t) acknowledged_total += acknowledged[t] - start[t];
    ok = ok && verify(run, acknowledged, cycle);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  uint64_t present_total = 0;
  for (uint64_t p : run.present) present_total += p;
  std::printf(
      "%s: %d cycles, %llu threads, %llu batches present, %llu acknowledged over all "
      "cycles, %.1f s\n",
      ok ? "OK" : "FAILED", cycle, static_cast<unsigned long long>(threads),
      static_cast<unsigned long long>(present_total),
      static_cast<unsigned long long>(acknowledged_total), seconds);
  if (!ok) {
    std::printf("replay with TESSERA_SEED=%llu; data left in %s\n",
                static_cast<unsigned long long>(run.seed), run.dir.c_str());
    return 1;
  }
  std::error_code ec;
  fs::remove_all(run.dir, ec);
  return 0;
}
