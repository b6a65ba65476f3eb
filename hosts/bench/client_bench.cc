#include "client_bench.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tessera/client.h"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kConnectionsMax = 1024;
constexpr double kDurationSecondsMax = 24 * 3600;
constexpr size_t kPreloadBatchOpsMax = 100;
constexpr size_t kPreloadBatchBytesMax = 1 << 20;
// Workers that cannot connect within this time fail the run instead of holding it up.
constexpr std::chrono::milliseconds kSetupTimeout{30'000};
constexpr std::chrono::milliseconds kControlPollInterval{5};

struct ClientBenchOptions {
  std::string address = "127.0.0.1:7400";
  std::string table = "bench";
  uint32_t connections = 4;
  uint64_t keys = 10'000;
  uint32_t key_bytes = 16;
  std::string key_sizes;  // a mix like value_sizes; empty: every key is key_bytes long
  std::string value_sizes = "100";
  double read_ratio = 0.5;
  double duration_s = 10;
  double warmup_s = 1;
  uint64_t ops = 0;  // 0: bounded by the duration only
  bool preload = true;
  uint32_t timeout_ms = 0;
  uint64_t seed = 1;
};

struct SizeWeight {
  uint32_t bytes = 0;
  double weight = 1;
};

// "100,1000:2,10000:0.5": sizes in bytes, each with an optional relative weight (default 1).
// `option` names the flag in the error.
Result<std::vector<SizeWeight>> parse_size_mix(const std::string& text, const std::string& option) {
  std::vector<SizeWeight> mix;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(start, comma - start);
    start = comma + 1;
    const size_t colon = item.find(':');
    SizeWeight entry;
    try {
      size_t used = 0;
      const std::string size_text = item.substr(0, colon);
      const unsigned long bytes = std::stoul(size_text, &used);
      if (used != size_text.size() || bytes > (1ul << 30)) throw std::invalid_argument("size");
      entry.bytes = static_cast<uint32_t>(bytes);
      if (colon != std::string::npos) {
        const std::string weight_text = item.substr(colon + 1);
        entry.weight = std::stod(weight_text, &used);
        if (used != weight_text.size() || !(entry.weight > 0)) throw std::invalid_argument("w");
      }
    } catch (const std::exception&) {
      return Status::invalid_argument(option + ": \"" + item +
                                      "\" is not SIZE or SIZE:WEIGHT (bytes up to 1 GiB, "
                                      "weight > 0)");
    }
    mix.push_back(entry);
  }
  return mix;
}

// Log-linear histogram of latencies in nanoseconds: exact below 256 ns, then 128 buckets per
// power of two, so a reported percentile is within 1% of the true value. Fixed size (58 KiB):
// recording never allocates, whatever the run's length.
class LatencyHistogram {
 public:
  void record(uint64_t ns) {
    ++counts_[index(ns)];
    ++count_;
    max_ = std::max(max_, ns);
  }

  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
  }

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }

  // The latency below which a fraction `p` of the recorded ones lie (bucket midpoint).
  uint64_t percentile(double p) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(count_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= std::max<uint64_t>(rank, 1)) return std::min(midpoint(i), max_);
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) * kSub;

  static size_t index(uint64_t v) {
    if (v < 2 * kSub) return static_cast<size_t>(v);
    const int msb = std::bit_width(v) - 1;
    const uint64_t mantissa = (v >> (msb - kSubBits)) & (kSub - 1);
    return static_cast<size_t>((msb - kSubBits + 1) * kSub + mantissa);
  }

  static uint64_t midpoint(size_t i) {
    if (i < 2 * kSub) return i;
    const int msb = static_cast<int>(i / kSub) + kSubBits - 1;
    const uint64_t mantissa = i % kSub;
    const uint64_t low = (kSub + mantissa) << (msb - kSubBits);
    return low + ((uint64_t{1} << (msb - kSubBits)) >> 1);
  }

  std::vector<uint64_t> counts_ = std::vector<uint64_t>(kBuckets, 0);
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

struct WorkerStats {
  LatencyHistogram reads;
  LatencyHistogram writes;
  uint64_t misses = 0;  // gets of keys with no value
  uint64_t errors = 0;
  std::map<StatusCode, uint64_t> errors_by_code;
  std::string first_error;
  Status setup_status;  // connect or preload failure
};

// State the control thread and the workers share.
struct Shared {
  enum Phase : int { kSetup, kWarmup, kMeasure, kStop };
  std::atomic<int> phase{kSetup};
  std::atomic<uint32_t> ready{0};
  std::atomic<int64_t> ops_left{0};
  std::atomic<uint32_t> finished{0};
};

// splitmix64's finalizer: a fixed, well-mixed function of `x`.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Keys and values of the run. Cheap to copy: each worker takes its own copy, because a
// distribution is not safe to share between threads; the random bytes are shared, read-only.
class Workload {
 public:
  Workload(const ClientBenchOptions& options, std::vector<SizeWeight> key_mix,
           std::vector<SizeWeight> mix)
      : options_(options), key_mix_(std::move(key_mix)), mix_(std::move(mix)) {
    double total = 0;
    for (const SizeWeight& entry : key_mix_) key_weight_ends_.push_back(total += entry.weight);
    std::vector<double> weights;
    uint32_t largest = 0;
    for (const SizeWeight& entry : mix_) {
      weights.push_back(entry.weight);
      largest = std::max(largest, entry.bytes);
    }
    sizes_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
    // Values are windows into one random buffer: no allocation or generation per operation.
    std::mt19937_64 rng(options.seed);
    auto bytes = std::make_shared<std::string>(size_t{largest} + 4096, '\0');
    for (char& c : *bytes) c = static_cast<char>(rng());
    random_bytes_ = std::move(bytes);
  }

  // The length of key `index`: a fixed function of the index and the seed, so that a key is the
  // same bytes in preload and in every worker, and lengths follow the key mix's weights.
  uint32_t key_bytes(uint64_t index) const {
    if (key_mix_.size() == 1) return key_mix_.front().bytes;
    const double unit = static_cast<double>(mix64(index ^ mix64(options_.seed)) >> 11) * 0x1p-53;
    const auto end = std::upper_bound(key_weight_ends_.begin(), key_weight_ends_.end(),
                                      unit * key_weight_ends_.back());
    return key_mix_[std::min<size_t>(end - key_weight_ends_.begin(), key_mix_.size() - 1)].bytes;
  }

  // "k" then the index in decimal, zero-padded to the key's length.
  std::string key(uint64_t index) const {
    std::string key(key_bytes(index), '0');
    key[0] = 'k';
    for (size_t pos = key.size() - 1; index > 0 && pos > 0; --pos, index /= 10) {
      key[pos] = static_cast<char>('0' + index % 10);
    }
    return key;
  }

  ByteView value(std::mt19937_64& rng) {
    const uint32_t bytes = mix_[sizes_(rng)].bytes;
    const size_t offset = rng() % (random_bytes_->size() - bytes + 1);
    return ByteView(*random_bytes_).substr(offset, bytes);
  }

 private:
  const ClientBenchOptions& options_;
  std::vector<SizeWeight> key_mix_;
  std::vector<double> key_weight_ends_;  // running sums of the key mix's weights
  std::vector<SizeWeight> mix_;
  std::discrete_distribution<size_t> sizes_;
  std::shared_ptr<const std::string> random_bytes_;
};

void note_error(WorkerStats& stats, const Status& status) {
  ++stats.errors;
  ++stats.errors_by_code[status.code()];
  if (stats.first_error.empty()) stats.first_error = status.to_string();
}

// Writes keys [first, last) in batches bounded by op count and bytes.
Status preload(Client& client, const ClientBenchOptions& options, Workload& workload,
               uint64_t first, uint64_t last, std::mt19937_64& rng) {
  std::vector<BatchOperation> batch;
  size_t batch_bytes = 0;
  for (uint64_t i = first; i < last; ++i) {
    ByteView value = workload.value(rng);
    batch.push_back({workload.key(i), Bytes(value)});
    batch_bytes += batch.back().key.size() + value.size();
    if (batch.size() == kPreloadBatchOpsMax || batch_bytes >= kPreloadBatchBytesMax ||
        i + 1 == last) {
      Status written = client.write(options.table, batch);
      // The AP profile offers no atomic batches: preload there one put at a time.
      if (written.code() == StatusCode::kNotSupported) {
        for (const BatchOperation& op : batch) {
          TESSERA_RETURN_IF_ERROR(client.put(options.table, op.key, *op.value).status());
        }
        written = Status::ok();
      }
      TESSERA_RETURN_IF_ERROR(written);
      batch.clear();
      batch_bytes = 0;
    }
  }
  return Status::ok();
}

void run_worker(uint32_t id, const ClientBenchOptions& options, Workload workload, Shared& shared,
                WorkerStats& stats) {
  struct Finish {
    Shared& shared;
    ~Finish() { shared.finished.fetch_add(1); }
  } finish{shared};
  std::mt19937_64 rng(options.seed * 0x9e3779b97f4a7c15ull + id + 1);
  Result<std::unique_ptr<Client>> connected = Client::connect(options.address);
  if (!connected.is_ok()) {
    stats.setup_status = connected.status();
    return;
  }
  Client& client = **connected;
  if (options.preload) {
    const uint64_t first = options.keys * id / options.connections;
    const uint64_t last = options.keys * (id + 1) / options.connections;
    stats.setup_status = preload(client, options, workload, first, last, rng);
    if (!stats.setup_status.is_ok()) return;
  }
  shared.ready.fetch_add(1);
  while (shared.phase.load() == Shared::kSetup) std::this_thread::sleep_for(kControlPollInterval);

  RequestOptions request;
  request.timeout_ms = options.timeout_ms;
  std::uniform_int_distribution<uint64_t> pick_key(0, options.keys - 1);
  std::bernoulli_distribution pick_read(options.read_ratio);
  while (true) {
    const int phase = shared.phase.load(std::memory_order_relaxed);
    if (phase == Shared::kStop) break;
    const bool measured = phase == Shared::kMeasure;
    if (measured && options.ops != 0 && shared.ops_left.fetch_sub(1) <= 0) break;
    const std::string key = workload.key(pick_key(rng));
    const bool read = pick_read(rng);
    const ByteView value = read ? ByteView() : workload.value(rng);

    const auto start = Clock::now();
    Status status;
    bool found = true;
    if (read) {
      Result<GetReply> reply = client.get(options.table, key, request);
      status = reply.status();
      found = reply.is_ok() && reply->found;
    } else {
      status = client.put(options.table, key, value, request).status();
    }
    const auto ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
    if (!status.is_ok()) {
      note_error(stats, status);
      // A Client does not reconnect: after Unavailable every call fails at once, and counting
      // those would only spin.
      if (status.code() == StatusCode::kUnavailable) break;
      continue;
    }
    if (!measured) continue;
    (read ? stats.reads : stats.writes).record(ns);
    if (!found) ++stats.misses;
  }
}

void print_latency(const char* label, const LatencyHistogram& h) {
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::printf("  %-7s %10llu ops   p50 %9.1f us   p99 %9.1f us   p999 %9.1f us   max %9.1f us\n",
              label, static_cast<unsigned long long>(h.count()), us(h.percentile(0.50)),
              us(h.percentile(0.99)), us(h.percentile(0.999)), us(h.max()));
}

Status validate(const ClientBenchOptions& o) {
  if (o.connections == 0 || o.connections > kConnectionsMax) {
    return Status::invalid_argument("--connections must be 1 to " +
                                    std::to_string(kConnectionsMax));
  }
  if (o.keys == 0) return Status::invalid_argument("--keys must be at least 1");
  if (!(o.read_ratio >= 0 && o.read_ratio <= 1)) {
    return Status::invalid_argument("--read-ratio must be within [0, 1]");
  }
  if (!(o.duration_s >= 0 && o.duration_s <= kDurationSecondsMax) ||
      !(o.warmup_s >= 0 && o.warmup_s <= kDurationSecondsMax)) {
    return Status::invalid_argument("--duration-s and --warmup-s must be within [0, 86400]");
  }
  if (o.duration_s == 0 && o.ops == 0) {
    return Status::invalid_argument("give a bound: --duration-s > 0 or --ops > 0");
  }
  return Status::ok();
}

int fail(const Status& status) {
  std::fprintf(stderr, "tessera-bench client: %s\n", status.to_string().c_str());
  return 1;
}

// The key size mix: --key-sizes, or --key-bytes alone. Every size must hold "k" and the
// largest index in decimal, so that the keys stay distinct.
Result<std::vector<SizeWeight>> key_size_mix(const ClientBenchOptions& o) {
  std::vector<SizeWeight> mix{{o.key_bytes, 1}};
  if (!o.key_sizes.empty()) {
    TESSERA_ASSIGN_OR_RETURN(mix, parse_size_mix(o.key_sizes, "--key-sizes"));
  }
  const size_t needed = 1 + std::to_string(o.keys - 1).size();
  for (const SizeWeight& entry : mix) {
    if (entry.bytes >= needed) continue;
    return Status::invalid_argument((o.key_sizes.empty() ? "--key-bytes " : "--key-sizes: ") +
                                    std::to_string(entry.bytes) +
                                    (o.key_sizes.empty() ? "" : " B") + " cannot hold " +
                                    std::to_string(o.keys) + " distinct keys");
  }
  return mix;
}

// Sets up the table, runs warmup and measurement, prints the report. Returns the exit code.
int run_client_bench(const ClientBenchOptions& options) {
  if (Status valid = validate(options); !valid.is_ok()) return fail(valid);
  Result<std::vector<SizeWeight>> key_mix = key_size_mix(options);
  if (!key_mix.is_ok()) return fail(key_mix.status());
  Result<std::vector<SizeWeight>> mix = parse_size_mix(options.value_sizes, "--value-sizes");
  if (!mix.is_ok()) return fail(mix.status());
  {
    Result<std::unique_ptr<Client>> admin = Client::connect(options.address);
    if (!admin.is_ok()) return fail(admin.status());
    Status created = (*admin)->create_table(options.table);
    if (!created.is_ok() && created.code() != StatusCode::kTableExists) return fail(created);
  }

  Workload workload(options, std::move(key_mix).value(), std::move(mix).value());
  Shared shared;
  shared.ops_left = static_cast<int64_t>(options.ops);
  std::vector<WorkerStats> stats(options.connections);
  std::vector<std::thread> threads;
  const auto setup_start = Clock::now();
  for (uint32_t i = 0; i < options.connections; ++i) {
    threads.emplace_back(run_worker, i, std::cref(options), workload, std::ref(shared),
                         std::ref(stats[i]));
  }
  // Bounded: every worker either reports ready or finishes (with a setup error).
  const auto setup_deadline =
      setup_start + kSetupTimeout + std::chrono::seconds(options.preload ? options.keys / 1000 : 0);
  while (shared.ready.load() + shared.finished.load() < options.connections &&
         Clock::now() < setup_deadline) {
    std::this_thread::sleep_for(kControlPollInterval);
  }
  const bool all_ready = shared.ready.load() == options.connections;
  const double setup_s = std::chrono::duration<double>(Clock::now() - setup_start).count();

  shared.phase = all_ready ? Shared::kWarmup : Shared::kStop;
  if (all_ready) std::this_thread::sleep_for(std::chrono::duration<double>(options.warmup_s));
  const auto measure_start = Clock::now();
  shared.phase = all_ready ? Shared::kMeasure : Shared::kStop;
  const auto measure_deadline =
      options.duration_s > 0
          ? measure_start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options.duration_s))
          : Clock::time_point::max();
  while (all_ready && shared.finished.load() < options.connections &&
         Clock::now() < measure_deadline) {
    std::this_thread::sleep_for(kControlPollInterval);
  }
  shared.phase = Shared::kStop;
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - measure_start).count();
  for (std::thread& t : threads) t.join();

  for (const WorkerStats& s : stats) {
    if (!s.setup_status.is_ok()) return fail(s.setup_status.with_context("setup"));
  }
  if (!all_ready) return fail(Status::timeout("workers were not ready within the setup time"));

  WorkerStats total;
  for (const WorkerStats& s : stats) {
    total.reads.merge(s.reads);
    total.writes.merge(s.writes);
    total.misses += s.misses;
    total.errors += s.errors;
    for (const auto& [code, n] : s.errors_by_code) total.errors_by_code[code] += n;
    if (total.first_error.empty()) total.first_error = s.first_error;
  }
  LatencyHistogram all = total.reads;
  all.merge(total.writes);

  const std::string key_sizes =
      options.key_sizes.empty() ? std::to_string(options.key_bytes) : options.key_sizes;
  std::printf(
      "tessera-bench client: %s table %s, %u connections, %llu keys of %s B, "
      "values %s B, read ratio %.2f\n",
      options.address.c_str(), options.table.c_str(), options.connections,
      static_cast<unsigned long long>(options.keys), key_sizes.c_str(), options.value_sizes.c_str(),
      options.read_ratio);
  std::printf("  setup %.2f s%s, warmup %.1f s, measured %.2f s\n", setup_s,
              options.preload ? " (preload)" : "", options.warmup_s, elapsed_s);
  std::printf(
      "  throughput %.0f ops/s (%.0f reads/s, %.0f writes/s), %llu misses, "
      "%llu errors\n",
      static_cast<double>(all.count()) / elapsed_s,
      static_cast<double>(total.reads.count()) / elapsed_s,
      static_cast<double>(total.writes.count()) / elapsed_s,
      static_cast<unsigned long long>(total.misses), static_cast<unsigned long long>(total.errors));
  print_latency("all", all);
  print_latency("reads", total.reads);
  print_latency("writes", total.writes);
  if (total.errors != 0) {
    for (const auto& [code, n] : total.errors_by_code) {
      std::printf("  error %s: %llu\n", std::string(status_code_name(code)).c_str(),
                  static_cast<unsigned long long>(n));
    }
    std::printf("  first error: %s\n", total.first_error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void add_client_bench_command(CLI::App& app) {
  // Owned by the callback, which lives as long as the App; the options bind to it.
  auto options = std::make_shared<ClientBenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "client", "Load a running node through the client API; prints ops/s and p50/p99/p999");
  cmd->add_option("--addr", options->address, "Node address HOST:PORT")
      ->envname("TESSERA_ADDR")
      ->capture_default_str();
  cmd->add_option("--table", options->table, "Table (created when missing)")->capture_default_str();
  cmd->add_option("-c,--connections", options->connections, "Connections, one thread each")
      ->capture_default_str();
  cmd->add_option("--keys", options->keys, "Key space: keys are picked uniformly from it")
      ->capture_default_str();
  CLI::Option* key_bytes =
      cmd->add_option("--key-bytes", options->key_bytes, "Key length")->capture_default_str();
  cmd->add_option("--key-sizes", options->key_sizes,
                  "Key size mix SIZE[:WEIGHT],... e.g. 16:9,64:1 (default: every key --key-bytes); "
                  "a key's size is fixed by its index")
      ->excludes(key_bytes);
  cmd->add_option("--value-sizes", options->value_sizes,
                  "Value size mix SIZE[:WEIGHT],... e.g. 100:8,1000:1.5,10000")
      ->capture_default_str();
  cmd->add_option("--read-ratio", options->read_ratio, "Fraction of operations that are gets")
      ->capture_default_str();
  cmd->add_option("--duration-s", options->duration_s, "Measured seconds (0: until --ops)")
      ->capture_default_str();
  cmd->add_option("--warmup-s", options->warmup_s, "Unmeasured seconds before measuring")
      ->capture_default_str();
  cmd->add_option("--ops", options->ops, "Stop after this many measured operations (0: none)")
      ->capture_default_str();
  cmd->add_flag("!--no-preload", options->preload, "Do not write every key before measuring");
  cmd->add_option("--timeout-ms", options->timeout_ms, "Per-request timeout (0: node default)")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of keys, sizes and value bytes")
      ->capture_default_str();
  cmd->callback([options]() {
    const int code = run_client_bench(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace tessera::bench
