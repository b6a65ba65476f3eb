// tessera-crash-writer: the child of the crash tests. Opens an engine plugin on a data directory,
// writes synced batches start, start+1, ... (workload.h) until it is killed, and after each
// write returns OK reports the batch number, one decimal line, on file descriptor --report-fd.
//
//   tessera_crash_writer --plugin=<file.so> [--config=<toml>] --dir=<data dir> --seed=<n>
//                        --start=<first batch> --report-fd=<fd>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "tessera/config.h"
#include "tessera/engine.h"
#include "tessera/plugin_loader.h"
#include "workload.h"

namespace {

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
  uint64_t start = std::stoull(flag(argc, argv, "start", "0"));
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
  WriteOptions sync;
  sync.sync = true;
  for (uint64_t b = start;; ++b) {
    Status s = (*engine)->write(sync, crash::make_batch(seed, b));
    if (!s.is_ok()) {
      std::fprintf(stderr, "write %llu: %s\n", static_cast<unsigned long long>(b),
                   s.to_string().c_str());
      return 4;
    }
    if (!report(fd, std::to_string(b) + "\n")) return 5;
  }
}
