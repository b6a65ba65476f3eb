// tessera-crash-writer: the child of the crash tests. Opens an engine plugin on a data directory
// and starts one writer thread per entry of --start. Thread t writes synced batches start_t,
// start_t + 1, ... of its own key space (workload.h) until the process is killed, and after each
// write returns OK reports "<t> <b>\n" on file descriptor --report-fd (one write() of less than
// PIPE_BUF bytes, so that lines of different threads never interleave). Concurrent threads make
// the engine group their commits.
//
// --acknowledge=async: a thread writes each batch unsynced and reports it from the callback of
// Engine::sync_async, with up to kAsyncInFlight batches awaiting theirs, as a server does; a
// kill then lands while syncs run beside writes.
//
//   tessera_crash_writer --plugin=<file.so> [--config=<toml>] --dir=<data dir> --seed=<n>
//                        --start=<b0>[,<b1>...] --report-fd=<fd> [--acknowledge=sync|async]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "tessera/config.h"
#include "tessera/engine.h"
#include "tessera/plugin_loader.h"
#include "workload.h"

namespace {

constexpr std::ptrdiff_t kAsyncInFlight = 64;

std::string flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

bool report(int fd, const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n <= 0) return false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tessera;
  std::filesystem::path plugin = flag(argc, argv, "plugin", "");
  std::string config_path = flag(argc, argv, "config", "");
  std::filesystem::path dir = flag(argc, argv, "dir", "");
  uint64_t seed = std::stoull(flag(argc, argv, "seed", "1"));
  std::vector<uint64_t> starts;
  std::string start_list = flag(argc, argv, "start", "0");
  for (size_t pos = 0; pos <= start_list.size();) {
    size_t comma = std::min(start_list.find(',', pos), start_list.size());
    starts.push_back(std::stoull(start_list.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  int fd = std::stoi(flag(argc, argv, "report-fd", "1"));

  std::unique_ptr<ConfigFile> config_file;
  ConfigSection config;
  if (!config_path.empty()) {
    auto loaded = ConfigFile::load(config_path);
    if (!loaded.is_ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().to_string().c_str());
      return 2;
    }
    config_file = std::move(loaded).value();
    config = config_file->root();
  }
  PluginLoader loader({plugin.parent_path()});
  PluginContext context{.node_id = "crash-writer", .data_dir = dir};
  auto engine = loader.make_engine(plugin.string(), context, config);
  if (!engine.is_ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().to_string().c_str());
    return 3;
  }
  report(fd, "open\n");
  Engine* db = engine->get();
  const bool async = flag(argc, argv, "acknowledge", "sync") == "async";
  auto fail = [](const char* what, uint64_t t, uint64_t b, const Status& s) {
    std::fprintf(stderr, "thread %llu %s %llu: %s\n", static_cast<unsigned long long>(t), what,
                 static_cast<unsigned long long>(b), s.to_string().c_str());
    std::_Exit(4);
  };
  auto writer = [&](uint64_t t) {
    WriteOptions options;
    options.sync = !async;
    std::counting_semaphore<kAsyncInFlight> in_flight(kAsyncInFlight);
    for (uint64_t b = starts[t];; ++b) {
      if (async) in_flight.acquire();
      Status s = db->write(options, crash::make_batch(seed, t, b));
      if (!s.is_ok()) fail("write", t, b, s);
      std::string line = std::to_string(t) + " " + std::to_string(b) + "\n";
      if (!async) {
        if (!report(fd, line)) std::_Exit(5);
        continue;
      }
      db->sync_async([&, t, b, line](Status synced) {
        if (!synced.is_ok()) fail("sync of", t, b, synced);
        if (!report(fd, line)) std::_Exit(5);
        in_flight.release();
      });
    }
  };
  std::vector<std::thread> threads;
  for (uint64_t t = 1; t < starts.size(); ++t) threads.emplace_back(writer, t);
  writer(0);  // never returns: the process ends by SIGKILL or _Exit
}
