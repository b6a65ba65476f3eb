#include "engine_bench.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/config.h"
#include "tessera/engine.h"
#include "tessera/plugin_loader.h"

namespace tessera::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kKeysMax = 1'000'000'000;
constexpr uint32_t kKeyBytesMin = 8;  // room for a distinct decimal key
constexpr uint32_t kValueBytesMax = 64 << 20;
constexpr double kFsyncProbeSeconds = 2.0;
constexpr uint64_t kFsyncProbeOpsMax = 20'000;

// The bench's own config of an engine's unsynced workloads, used when no --config names one, so
// that those workloads measure the same thing on every engine: writes that skip fsync. lsm and
// rocksdb skip it by default. lmdb fdatasyncs every commit by default (MDB_NOMETASYNC, so that a
// machine crash cannot corrupt it); these runs give that up, as LMDB's own benchmarks do.
// fillsync always runs the engine's defaults.
struct UnsyncedDefault {
  std::string_view engine;
  std::string_view toml;
  std::string_view cost;  // what the config gives up, for the output header
};
constexpr UnsyncedDefault kUnsyncedDefaults[] = {
    {"lmdb", "unsafe_nosync = true",
     "MDB_NOSYNC: no fdatasync per commit, and a machine crash may corrupt the database"},
};

// The config sections of one engine's runs, borrowed from ConfigFiles that outlive the runs.
struct EngineConfigs {
  ConfigSection unsynced;  // every workload but fillsync
  ConfigSection synced;    // fillsync
  std::string description;
};

struct EngineBenchOptions {
  std::vector<std::string> engines = {"lsm", "rocksdb", "lmdb"};
  std::vector<std::string> workloads = {"fillseq", "fillrandom", "overwrite", "readrandom",
                                        "readseq", "seekrandom", "fillsync"};
  std::vector<std::string> configs;  // "<engine>=<toml file>"
  uint64_t keys = 1'000'000;
  uint32_t key_bytes = 16;
  uint32_t value_bytes = 100;
  uint64_t seeks = 0;  // 0: keys / 10
  uint32_t scan_length = 100;
  uint64_t sync_ops = 2000;
  std::string dir;         // empty: a fresh folder under the system temp directory
  std::string plugin_dir;  // empty: the build/install layout next to the executable
  uint64_t seed = 1;
  bool print_stats = false;  // print each engine's stats() after the last workload
};

// Zero-padded decimal, so that key order is number order (fillseq writes in key order).
std::string make_key(uint64_t i, uint32_t key_bytes) {
  std::string digits = std::to_string(i);
  std::string key(key_bytes, '0');
  std::copy(digits.begin(), digits.end(), key.end() - static_cast<std::ptrdiff_t>(digits.size()));
  return key;
}

std::string make_value(std::mt19937_64& rng, uint32_t bytes) {
  std::string v(bytes, '\0');
  for (auto& c : v) c = static_cast<char>('a' + rng() % 26);
  return v;
}

// A "<field>:   <n> kB" line of /proc/self/status in MiB, or 0 when it is missing.
double proc_status_mib(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
        line[field.size()] == ':') {
      return std::stod(line.substr(field.size() + 1)) / 1024.0;
    }
  }
  return 0;
}

// Resident set size now.
double rss_mib() { return proc_status_mib("VmRSS"); }
// The process's peak resident set size so far (the kernel's high-water mark, VmHWM).
double peak_rss_mib() { return proc_status_mib("VmHWM"); }

// Raw fsync rate of the disk under `dir`: 4 KiB pwrite at offset 0 + fdatasync, repeated.
double measure_fsync_rate(const fs::path& dir) {
  fs::path file = dir / "fsync-probe";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 0;
  std::string block(4096, 'f');
  uint64_t ops = 0;
  auto start = Clock::now();
  double seconds = 0;
  while (seconds < kFsyncProbeSeconds && ops < kFsyncProbeOpsMax) {
    if (::pwrite(fd, block.data(), block.size(), 0) != static_cast<ssize_t>(block.size())) break;
    if (::fdatasync(fd) != 0) break;
    ++ops;
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  ::close(fd);
  fs::remove(file);
  return seconds > 0 ? static_cast<double>(ops) / seconds : 0;
}

class EngineRunner {
 public:
  EngineRunner(const EngineBenchOptions& options, const PluginLoader& loader, std::string engine,
               EngineConfigs configs, fs::path base)
      : options_(options),
        loader_(loader),
        engine_name_(std::move(engine)),
        configs_(std::move(configs)),
        base_(std::move(base)) {}

  // Ops/s of `workload`, or a failed Status.
  Result<double> run(const std::string& workload) {
    if (workload == "fillseq") return fresh_fill(false, false);
    if (workload == "fillrandom") return fresh_fill(true, false);
    if (workload == "fillsync") return fresh_fill(true, true);
    if (engine_ == nullptr) {
      // Reads and overwrites run on the fillrandom state; build it when it was not requested.
      auto filled = fresh_fill(true, false);
      if (!filled.is_ok()) return filled.status();
    }
    if (workload == "overwrite") return overwrite();
    if (workload == "readrandom") return read_random();
    if (workload == "readseq") return read_seq();
    if (workload == "seekrandom") return seek_random();
    return Status::invalid_argument("unknown workload '" + workload + "'");
  }

  // Growth of the process's RSS while this engine ran fillrandom (memtables, caches, maps).
  double rss_growth_mib() const { return rss_growth_mib_; }
  EngineStats stats() const { return engine_ != nullptr ? engine_->stats() : EngineStats(); }
  void close() {
    engine_.reset();
    std::error_code ec;
    fs::remove_all(base_ / engine_name_, ec);
  }

 private:
  Status open_fresh(const ConfigSection& config) {
    close();
    fs::path dir = base_ / engine_name_;
    fs::create_directories(dir);
    PluginContext context{.node_id = "bench", .data_dir = dir};
    auto engine = loader_.make_engine(engine_name_, context, config);
    if (!engine.is_ok()) return engine.status();
    engine_ = std::move(engine).value();
    return Status::ok();
  }

  static double rate(uint64_t ops, Clock::time_point start) {
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return seconds > 0 ? static_cast<double>(ops) / seconds : 0;
  }

  Result<double> fresh_fill(bool random_order, bool sync) {
    TESSERA_RETURN_IF_ERROR(open_fresh(sync ? configs_.synced : configs_.unsynced));
    double rss_before = rss_mib();
    uint64_t n = sync ? std::min(options_.sync_ops, options_.keys) : options_.keys;
    std::vector<uint64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(options_.seed);
    if (random_order) std::shuffle(order.begin(), order.end(), rng);
    WriteOptions wo;
    wo.sync = sync;
    std::string value = make_value(rng, options_.value_bytes);
    auto start = Clock::now();
    for (uint64_t i : order) {
      value[i % value.size()] = static_cast<char>('a' + i % 26);
      TESSERA_RETURN_IF_ERROR(engine_->put(wo, make_key(i, options_.key_bytes), value));
    }
    double ops = rate(n, start);
    if (random_order && !sync) rss_growth_mib_ = rss_mib() - rss_before;
    return ops;
  }

  Result<double> overwrite() {
    std::mt19937_64 rng(options_.seed + 1);
    std::string value = make_value(rng, options_.value_bytes);
    auto start = Clock::now();
    for (uint64_t i = 0; i < options_.keys; ++i) {
      uint64_t k = rng() % options_.keys;
      value[k % value.size()] = static_cast<char>('A' + k % 26);
      TESSERA_RETURN_IF_ERROR(engine_->put({}, make_key(k, options_.key_bytes), value));
    }
    return rate(options_.keys, start);
  }

  Result<double> read_random() {
    std::mt19937_64 rng(options_.seed + 2);
    uint64_t found = 0;
    auto start = Clock::now();
    for (uint64_t i = 0; i < options_.keys; ++i) {
      auto value = engine_->get({}, make_key(rng() % options_.keys, options_.key_bytes));
      if (!value.is_ok()) return value.status();
      found += value->has_value();
    }
    double ops = rate(options_.keys, start);
    if (found != options_.keys) {
      return Status::internal("readrandom found " + std::to_string(found) + " of " +
                              std::to_string(options_.keys) + " keys");
    }
    return ops;
  }

  Result<double> read_seq() {
    auto start = Clock::now();
    auto it = engine_->new_iterator({});
    uint64_t n = 0;
    size_t bytes = 0;
    for (it->seek_to_first(); it->valid(); it->next()) {
      bytes += it->key().size() + it->value().size();
      ++n;
    }
    TESSERA_RETURN_IF_ERROR(it->status());
    if (n != options_.keys || bytes == 0) {
      return Status::internal("readseq saw " + std::to_string(n) + " keys");
    }
    return rate(n, start);
  }

  // One op = a seek to a random key and up to scan_length entries read from there.
  Result<double> seek_random() {
    uint64_t seeks =
        options_.seeks != 0 ? options_.seeks : std::max<uint64_t>(1, options_.keys / 10);
    std::mt19937_64 rng(options_.seed + 3);
    auto start = Clock::now();
    uint64_t entries = 0;
    for (uint64_t i = 0; i < seeks; ++i) {
      auto it = engine_->new_iterator({});
      it->seek(make_key(rng() % options_.keys, options_.key_bytes));
      for (uint32_t j = 0; j < options_.scan_length && it->valid(); ++j, it->next()) ++entries;
      TESSERA_RETURN_IF_ERROR(it->status());
    }
    if (entries == 0) return Status::internal("seekrandom read nothing");
    return rate(seeks, start);
  }

  const EngineBenchOptions& options_;
  const PluginLoader& loader_;
  std::string engine_name_;
  EngineConfigs configs_;
  fs::path base_;
  PluginPtr<Engine> engine_;
  double rss_growth_mib_ = 0;
};

std::string format_rate(double ops) {
  char buf[32];
  if (ops <= 0) return "-";
  if (ops >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2f M", ops / 1e6);
  } else if (ops >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1f K", ops / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", ops);
  }
  return buf;
}

int run_engine_bench(const EngineBenchOptions& options) {
  fs::path plugin_dir = options.plugin_dir;
  if (plugin_dir.empty()) {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    plugin_dir = (exe.parent_path() / TESSERA_PLUGIN_DIR_FROM_BIN).lexically_normal();
  }
  fs::path base = options.dir.empty()
                      ? fs::temp_directory_path() / ("tessera-bench-" + std::to_string(::getpid()))
                      : fs::path(options.dir);
  fs::create_directories(base);
  PluginLoader loader({plugin_dir});

  // Per-engine config files, "<engine>=<file>".
  std::map<std::string, std::unique_ptr<ConfigFile>> config_files;
  for (const auto& spec : options.configs) {
    auto eq = spec.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "--config expects <engine>=<toml file>, got '%s'\n", spec.c_str());
      return 2;
    }
    auto file = ConfigFile::load(spec.substr(eq + 1));
    if (!file.is_ok()) {
      std::fprintf(stderr, "%s\n", file.status().to_string().c_str());
      return 2;
    }
    config_files[spec.substr(0, eq)] = std::move(file).value();
  }

  std::printf("tessera-bench engine: %llu keys of %u bytes, %u-byte values, engines:",
              static_cast<unsigned long long>(options.keys), options.key_bytes,
              options.value_bytes);
  for (const auto& e : options.engines) std::printf(" %s", e.c_str());
  std::printf("\ndata under %s\n", base.c_str());

  // Each engine's configs: its --config file for every workload, or else the bench's unsynced
  // default (if any) for all but fillsync and the engine's defaults for fillsync.
  std::vector<std::unique_ptr<ConfigFile>> default_files;
  std::vector<EngineConfigs> configs;
  for (const auto& engine : options.engines) {
    EngineConfigs c;
    if (auto it = config_files.find(engine); it != config_files.end()) {
      c.unsynced = c.synced = it->second->root();
      c.description = it->second->root().file() + " (--config), every workload";
    } else {
      c.description = "defaults";
      for (const auto& d : kUnsyncedDefaults) {
        if (d.engine != engine) continue;
        auto file = ConfigFile::parse(d.toml, "tessera-bench default of " + engine);
        TESSERA_ASSERT(file.is_ok(), "a built-in config must parse");
        c.unsynced = (*file)->root();
        c.description = std::string(d.toml) + " (" + std::string(d.cost) +
                        ") except fillsync, which runs the defaults";
        default_files.push_back(std::move(file).value());
      }
    }
    std::printf("config of %s: %s\n", engine.c_str(), c.description.c_str());
    configs.push_back(std::move(c));
  }
  double fsync_before = measure_fsync_rate(base);
  std::printf("raw fsync rate (4 KiB pwrite + fdatasync): %.0f /s\n\n", fsync_before);
  std::fflush(stdout);

  // results[workload][engine]. Workloads run one at a time across all engines (each engine
  // keeps its own data directory open), so that a shared machine's changing load hits every
  // engine of a workload alike.
  std::map<std::string, std::map<std::string, double>> results;
  std::vector<std::unique_ptr<EngineRunner>> runners;
  for (size_t i = 0; i < options.engines.size(); ++i) {
    runners.push_back(
        std::make_unique<EngineRunner>(options, loader, options.engines[i], configs[i], base));
  }
  int exit_code = 0;
  for (const auto& workload : options.workloads) {
    for (size_t i = 0; i < runners.size(); ++i) {
      const std::string& engine = options.engines[i];
      auto ops = runners[i]->run(workload);
      if (!ops.is_ok()) {
        std::fprintf(stderr, "%s %s: %s\n", engine.c_str(), workload.c_str(),
                     ops.status().to_string().c_str());
        exit_code = 1;
        continue;
      }
      results[workload][engine] = *ops;
      std::printf("  %-11s %-8s %12.0f ops/s\n", workload.c_str(), engine.c_str(), *ops);
      std::fflush(stdout);
    }
  }
  std::map<std::string, double> rss;
  for (size_t i = 0; i < runners.size(); ++i) {
    if (options.print_stats) {
      std::printf("\nstats of %s:\n", options.engines[i].c_str());
      for (const auto& [name, value] : runners[i]->stats()) {
        std::printf("  %-32s %.6g\n", name.c_str(), value);
      }
    }
    rss[options.engines[i]] = runners[i]->rss_growth_mib();
    runners[i]->close();
  }

  // A shared machine's disk varies over minutes: probe again and compare against the better.
  double fsync_after = measure_fsync_rate(base);
  double fsync_rate = std::max(fsync_before, fsync_after);

  // The table: ops/s per engine, then the first engine relative to each other one.
  const std::string& first = options.engines.front();
  std::printf("\n| workload |");
  for (const auto& e : options.engines) std::printf(" %s ops/s |", e.c_str());
  for (size_t i = 1; i < options.engines.size(); ++i) {
    std::printf(" %s/%s |", first.c_str(), options.engines[i].c_str());
  }
  std::printf("\n|---|");
  for (size_t i = 0; i < options.engines.size() * 2 - 1; ++i) std::printf("---:|");
  std::printf("\n");
  for (const auto& workload : options.workloads) {
    std::printf("| %s |", workload == "seekrandom"
                              ? ("seekrandom+scan" + std::to_string(options.scan_length)).c_str()
                              : workload.c_str());
    auto& row = results[workload];
    for (const auto& e : options.engines) std::printf(" %s |", format_rate(row[e]).c_str());
    for (size_t i = 1; i < options.engines.size(); ++i) {
      double other = row[options.engines[i]];
      if (other > 0 && row[first] > 0) {
        std::printf(" %.2fx |", row[first] / other);
      } else {
        std::printf(" - |");
      }
    }
    std::printf("\n");
  }
  std::printf("\nraw fsync: %.0f /s before, %.0f /s after the engines; ratios use %.0f /s",
              fsync_before, fsync_after, fsync_rate);
  if (fsync_rate > 0) {
    for (const auto& e : options.engines) {
      double sync = results["fillsync"][e];
      if (sync > 0) std::printf("; %s fillsync = %.2fx raw", e.c_str(), sync / fsync_rate);
    }
  }
  std::printf("\nRSS growth during fillrandom (MiB):");
  for (const auto& e : options.engines) std::printf(" %s %.0f;", e.c_str(), rss[e]);
  // Process-wide, over every engine and workload of the run: one engine per run gives that
  // engine's peak (plus the bench itself).
  std::printf("\npeak RSS of the process (VmHWM): %.0f MiB\n", peak_rss_mib());
  std::error_code ec;
  if (options.dir.empty()) fs::remove_all(base, ec);
  return exit_code;
}

}  // namespace

void add_engine_bench_command(CLI::App& app) {
  auto options = std::make_shared<EngineBenchOptions>();
  CLI::App* cmd = app.add_subcommand("engine", "engine plugins side by side, in this process");
  cmd->add_option("--engines", options->engines,
                  "engine plugins to compare; the first one is "
                  "compared with each other one")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--workloads", options->workloads,
                  "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom,fillsync")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--config", options->configs,
                  "<engine>=<toml file>: the config section of an engine for every workload, "
                  "in place of the bench's (lmdb: unsafe_nosync = true except fillsync; "
                  "others: defaults) (repeatable)");
  cmd->add_option("--keys", options->keys, "keys per fill; ops of overwrite and readrandom")
      ->check(CLI::Range(uint64_t{1}, kKeysMax))
      ->capture_default_str();
  cmd->add_option("--key-bytes", options->key_bytes, "key size")
      ->check(CLI::Range(kKeyBytesMin, uint32_t{4096}))
      ->capture_default_str();
  cmd->add_option("--value-bytes", options->value_bytes, "value size")
      ->check(CLI::Range(uint32_t{1}, kValueBytesMax))
      ->capture_default_str();
  cmd->add_option("--seeks", options->seeks, "seeks of seekrandom (0: keys / 10)")
      ->capture_default_str();
  cmd->add_option("--scan-length", options->scan_length, "entries read after each seek")
      ->capture_default_str();
  cmd->add_option("--sync-ops", options->sync_ops, "writes of fillsync (each one synced)")
      ->check(CLI::Range(uint64_t{1}, kKeysMax))
      ->capture_default_str();
  cmd->add_option("--dir", options->dir, "where the engines keep their data (default: temp)");
  cmd->add_option("--plugin-dir", options->plugin_dir,
                  "plugin directory (default: <exe>/" TESSERA_PLUGIN_DIR_FROM_BIN ")");
  cmd->add_flag("--stats", options->print_stats, "print each engine's stats at the end");
  cmd->add_option("--seed", options->seed, "seed of the random key orders")->capture_default_str();
  cmd->callback([options] {
    int code = run_engine_bench(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace tessera::bench
