#include "load_driver.h"

#include <kj/async-io.h>
#include <kj/async.h>
#include <kj/timer.h>
#include <kj/vector.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

#include "history.h"
#include "malloc_counter.h"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Threads that cannot connect and preload within this time (plus a second per 1,000 preloaded
// keys) fail the run instead of holding it up.
constexpr std::chrono::milliseconds kSetupTimeout{30'000};
constexpr std::chrono::milliseconds kControlPollInterval{5};
// A thread that gets no answer at all for this long (plus the request timeout) gives up: the
// server is wedged, and a run bounded only by --requests would otherwise never end.
constexpr std::chrono::milliseconds kStallTimeout{30'000};

enum Phase : int { kSetup, kWarmup, kMeasure, kStop };

// State the control thread and the load threads share.
struct Shared {
  std::atomic<int> phase{kSetup};
  std::atomic<uint32_t> ready{0};
  std::atomic<uint32_t> finished{0};
  std::atomic<int64_t> ops_left{0};
  std::atomic<int64_t> last_op_ns{0};  // steady clock, when the --requests bound was reached
  HistoryLog* history = nullptr;       // --history: every operation is recorded here
};

struct ThreadStats {
  LatencyHistogram reads;
  LatencyHistogram writes;
  uint64_t misses = 0;
  uint64_t errors = 0;
  std::map<StatusCode, uint64_t> errors_by_code;
  std::string first_error;
  Status setup_status;
  uint64_t allocations = 0;

  void note_error(StatusCode code, const std::string& message) {
    ++errors;
    ++errors_by_code[code];
    if (first_error.empty()) first_error = message;
  }
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// One event loop and its connections.
class LoadThread {
 public:
  LoadThread(uint32_t index, const LoadOptions& options, const Workload& workload,
             const LoadTargetFactory& make_target, Shared& shared)
      : index_(index),
        options_(options),
        workload_(workload),
        make_target_(make_target),
        shared_(shared),
        rng_(options.seed * 0x9e3779b97f4a7c15ull + index + 1),
        pick_key_(0, options.keys - 1),
        pick_read_(options.read_ratio) {
    const uint64_t timeout_ms = options.timeout_ms;
    stall_timeout_ = kStallTimeout + std::chrono::milliseconds(timeout_ms);
  }

  ThreadStats& stats() { return stats_; }

  void run() {
    struct Finish {
      Shared& shared;
      ~Finish() { shared.finished.fetch_add(1); }
    } finish{shared_};
    try {
      kj::AsyncIoContext io = kj::setupAsyncIo();
      timer_ = &io.provider->getTimer();
      run_on(io);
      // Connections close before the event loop goes away.
      connections_.clear();
    } catch (const kj::Exception& e) {
      stats_.setup_status = Status::internal("load thread " + std::to_string(index_) + ": " +
                                             std::string(e.getDescription().cStr()));
      connections_.clear();
    }
  }

 private:
  // --history: the operation a request slot has in flight.
  struct SlotOp {
    HistoryOp op;
    bool in_flight = false;
    uint64_t sent = 0;  // operations this slot has sent, for unique put values
  };

  struct Connection {
    kj::Own<LoadTarget> target;
    uint32_t index = 0;           // over all threads
    std::vector<SlotOp> slots;    // --history: one per pipeline position
    uint64_t preload_next = 0;  // the next key this connection preloads
    uint64_t preload_end = 0;
    bool broken = false;
  };

  void run_on(kj::AsyncIoContext& io) {
    const uint32_t threads = options_.threads;
    for (uint32_t i = index_; i < options_.connections; i += threads) {
      auto connection = std::make_unique<Connection>();
      connection->target =
          make_target_(io, options_.addresses[i % options_.addresses.size()], workload_);
      connection->preload_next = options_.keys * i / options_.connections;
      connection->preload_end = options_.keys * (i + 1) / options_.connections;
      connection->index = i;
      if (shared_.history != nullptr) connection->slots.resize(options_.pipeline);
      connections_.push_back(std::move(connection));
    }
    {
      kj::Vector<kj::Promise<Status>> connecting;
      for (auto& c : connections_) connecting.add(c->target->connect());
      kj::Array<Status> connected =
          kj::joinPromises(connecting.releaseAsArray()).wait(io.waitScope);
      for (const Status& status : connected) {
        if (!status.is_ok()) {
          stats_.setup_status = status;
          return;
        }
      }
    }
    if (options_.preload) {
      kj::Vector<kj::Promise<void>> loading;
      for (auto& c : connections_) {
        for (uint32_t p = 0; p < options_.pipeline; ++p) loading.add(preload_slot(*c));
      }
      kj::joinPromises(loading.releaseAsArray()).wait(io.waitScope);
      if (!stats_.setup_status.is_ok()) return;
    }
    shared_.ready.fetch_add(1);
    while (shared_.phase.load() == kSetup) timer_->afterDelay(kPoll).wait(io.waitScope);
    if (shared_.phase.load() == kStop) return;  // another thread's setup failed

    last_answer_ = Clock::now();
    kj::Vector<kj::Promise<void>> slots;
    for (auto& c : connections_) {
      for (uint32_t p = 0; p < options_.pipeline; ++p) slots.add(run_slot(*c, p));
    }
    kj::joinPromises(slots.releaseAsArray()).exclusiveJoin(watch()).wait(io.waitScope);
    see_phase(kStop);
    // Requests still in flight were cancelled: their outcome is unknown.
    for (auto& c : connections_) {
      for (SlotOp& slot : c->slots) {
        if (slot.in_flight) shared_.history->record(slot.op, HistoryOutcome{});
      }
    }
  }

  // Preloads the connection's next keys until its range is written; one such chain per slot.
  kj::Promise<void> preload_slot(Connection& c) {
    if (c.preload_next >= c.preload_end || !stats_.setup_status.is_ok()) return kj::READY_NOW;
    const uint64_t first = c.preload_next;
    const uint64_t count = std::min(c.target->preload_batch_max(), c.preload_end - first);
    c.preload_next += count;
    return c.target->preload(first, count, rng_)
        .then(
            [this, &c](LoadAnswer answer) -> kj::Promise<void> {
              if (answer.code != StatusCode::kOk) {
                stats_.setup_status = Status(answer.code, "preload failed");
                return kj::READY_NOW;
              }
              return preload_slot(c);
            },
            [this](kj::Exception&& e) -> kj::Promise<void> {
              stats_.setup_status =
                  Status::unavailable("preload: " + std::string(e.getDescription().cStr()));
              return kj::READY_NOW;
            });
  }

  // Sends one request and, from its answer's continuation, the next one, until the run stops.
  kj::Promise<void> run_slot(Connection& c, uint32_t slot) {
    if (c.broken || done_) return kj::READY_NOW;
    LoadRequest request;
    request.key = pick_key_(rng_);
    request.read = pick_read_(rng_);
    if (!request.read) request.value = workload_.value(rng_);
    if (shared_.history != nullptr) begin_history(c, slot, request);
    const Clock::time_point start = Clock::now();
    return c.target->send(request).then(
        [this, &c, slot, start, read = request.read](LoadAnswer answer) -> kj::Promise<void> {
          if (shared_.history != nullptr) end_history(c, slot, &answer);
          return answered(c, slot, start, read, answer);
        },
        [this, &c, slot](kj::Exception&& e) -> kj::Promise<void> {
          if (shared_.history != nullptr) end_history(c, slot, nullptr);
          // Targets do not reconnect: count the loss once and stop using the connection.
          c.broken = true;
          if (shared_.phase.load(std::memory_order_relaxed) != kStop) {
            stats_.note_error(StatusCode::kUnavailable,
                              "connection lost: " + std::string(e.getDescription().cStr()));
          }
          return kj::READY_NOW;
        });
  }

  // Puts of a history write values no other operation writes, so a read names its write.
  void begin_history(Connection& c, uint32_t slot, LoadRequest& request) {
    SlotOp& s = c.slots[slot];
    s.op.client = c.index * options_.pipeline + slot;
    s.op.read = request.read;
    s.op.key = workload_.key(request.key);
    s.op.value.clear();
    if (!request.read) {
      s.op.value = "c" + std::to_string(s.op.client) + "." + std::to_string(s.sent);
      request.value = s.op.value;
    }
    request.want_value = request.read;
    ++s.sent;
    s.in_flight = true;
    s.op.call_ns = shared_.history->now_ns();
  }

  // `answer` is null when the connection was lost: the outcome is unknown.
  void end_history(Connection& c, uint32_t slot, const LoadAnswer* answer) {
    SlotOp& s = c.slots[slot];
    HistoryOutcome outcome;
    if (answer != nullptr) {
      outcome.answered = true;
      outcome.code = answer->code;
      if (answer->found) outcome.result = answer->value;
      outcome.return_ns = shared_.history->now_ns();
    }
    shared_.history->record(s.op, outcome);
    s.in_flight = false;
  }

  kj::Promise<void> answered(Connection& c, uint32_t slot, Clock::time_point start, bool read,
                             LoadAnswer answer) {
    const Clock::time_point end = Clock::now();
    last_answer_ = end;
    const int phase = shared_.phase.load(std::memory_order_relaxed);
    see_phase(phase);
    if (phase == kStop || done_) return kj::READY_NOW;
    if (phase == kMeasure) {
      if (options_.ops != 0) {
        const int64_t left = shared_.ops_left.fetch_sub(1, std::memory_order_relaxed);
        if (left <= 0) {
          done_ = true;
          return kj::READY_NOW;
        }
        if (left == 1) shared_.last_op_ns.store(now_ns());
      }
      if (answer.code == StatusCode::kOk) {
        const auto ns = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
        (read ? stats_.reads : stats_.writes).record(ns);
        if (!answer.found) ++stats_.misses;
      }
    }
    if (answer.code != StatusCode::kOk) {
      stats_.note_error(answer.code, std::string(status_code_name(answer.code)) + " answered to " +
                                         (read ? "a get" : "a put"));
    }
    return run_slot(c, slot);
  }

  // Ends the run on this thread when the control thread says stop, or when no answer came for
  // the stall timeout.
  kj::Promise<void> watch() {
    return timer_->afterDelay(kPoll).then([this]() -> kj::Promise<void> {
      const int phase = shared_.phase.load();
      see_phase(phase);
      if (phase == kStop || done_) return kj::READY_NOW;
      if (Clock::now() - last_answer_ > stall_timeout_) {
        stats_.note_error(StatusCode::kTimeout,
                          "no answer on any connection of a load thread for " +
                              std::to_string(stall_timeout_.count()) + " ms");
        done_ = true;
        return kj::READY_NOW;
      }
      return watch();
    });
  }

  // Snapshots this thread's allocation count when the measured window opens and closes.
  void see_phase(int phase) {
    if (phase == seen_phase_) return;
    if (phase == kMeasure) measure_allocations_start_ = thread_allocations();
    if (phase == kStop && seen_phase_ == kMeasure) {
      stats_.allocations = thread_allocations() - measure_allocations_start_;
    }
    seen_phase_ = std::max(seen_phase_, phase);
  }

  static constexpr kj::Duration kPoll = kControlPollInterval.count() * kj::MILLISECONDS;

  const uint32_t index_;
  const LoadOptions& options_;
  Workload workload_;
  const LoadTargetFactory& make_target_;
  Shared& shared_;
  std::mt19937_64 rng_;
  std::uniform_int_distribution<uint64_t> pick_key_;
  std::bernoulli_distribution pick_read_;
  std::chrono::milliseconds stall_timeout_;
  kj::Timer* timer_ = nullptr;
  std::vector<std::unique_ptr<Connection>> connections_;
  ThreadStats stats_;
  Clock::time_point last_answer_;
  bool done_ = false;  // the --requests bound was reached, or the thread stalled
  int seen_phase_ = kSetup;
  uint64_t measure_allocations_start_ = 0;
};

}  // namespace

Result<LoadResult> run_load(const LoadOptions& options, const Workload& workload,
                            const LoadTargetFactory& make_target) {
  Shared shared;
  std::unique_ptr<HistoryLog> history;
  if (!options.history_path.empty()) {
    TESSERA_ASSIGN_OR_RETURN(history, HistoryLog::open(options.history_path));
    shared.history = history.get();
  }
  shared.ops_left = static_cast<int64_t>(options.ops);
  std::vector<std::unique_ptr<LoadThread>> loads;
  for (uint32_t t = 0; t < options.threads; ++t) {
    loads.push_back(std::make_unique<LoadThread>(t, options, workload, make_target, shared));
  }
  std::vector<std::thread> threads;
  const auto setup_start = Clock::now();
  for (auto& load : loads) threads.emplace_back([&load]() { load->run(); });
  const uint32_t count = options.threads;
  // Bounded: every thread either reports ready or finishes (with a setup error).
  const auto setup_deadline =
      setup_start + kSetupTimeout + std::chrono::seconds(options.preload ? options.keys / 1000 : 0);
  while (shared.ready.load() + shared.finished.load() < count && Clock::now() < setup_deadline) {
    std::this_thread::sleep_for(kControlPollInterval);
  }
  const bool all_ready = shared.ready.load() == count;
  LoadResult result;
  result.setup_s = std::chrono::duration<double>(Clock::now() - setup_start).count();

  shared.phase = all_ready ? kWarmup : kStop;
  if (all_ready) std::this_thread::sleep_for(std::chrono::duration<double>(options.warmup_s));

  std::vector<CpuSeconds> node_start;
  Status node_status;
  for (pid_t pid : options.node_pids) {
    Result<CpuSeconds> cpu = process_cpu(pid);
    if (!cpu.is_ok()) node_status = cpu.status().with_context("--node-pid");
    node_start.push_back(cpu.is_ok() ? *cpu : CpuSeconds{});
  }
  const CpuSeconds tool_start = self_cpu();
  const auto measure_start = Clock::now();
  shared.phase = all_ready ? kMeasure : kStop;
  const auto measure_deadline =
      options.duration_s > 0
          ? measure_start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options.duration_s))
          : Clock::time_point::max();
  while (all_ready && shared.finished.load() < count && Clock::now() < measure_deadline &&
         (options.ops == 0 || shared.ops_left.load() > 0)) {
    std::this_thread::sleep_for(kControlPollInterval);
  }
  shared.phase = kStop;
  auto measure_end = Clock::now();
  const CpuSeconds tool_end = self_cpu();
  for (size_t i = 0; i < options.node_pids.size(); ++i) {
    Result<CpuSeconds> cpu = process_cpu(options.node_pids[i]);
    if (!cpu.is_ok()) node_status = cpu.status().with_context("--node-pid");
    const double used = cpu.is_ok() ? cpu->total() - node_start[i].total() : 0;
    result.node_cpu_s.emplace_back(options.node_pids[i], used);
  }
  if (const int64_t last = shared.last_op_ns.load(); last != 0) {
    measure_end = std::min(measure_end, Clock::time_point(std::chrono::nanoseconds(last)));
  }
  result.elapsed_s = std::chrono::duration<double>(measure_end - measure_start).count();
  result.tool_cpu = {tool_end.user - tool_start.user, tool_end.system - tool_start.system};
  for (std::thread& t : threads) t.join();

  for (auto& load : loads) {
    const ThreadStats& s = load->stats();
    if (!s.setup_status.is_ok()) return s.setup_status.with_context("setup");
  }
  if (!all_ready) return Status::timeout("load threads were not ready within the setup time");
  TESSERA_RETURN_IF_ERROR(node_status);
  for (auto& load : loads) {
    const ThreadStats& s = load->stats();
    result.reads.merge(s.reads);
    result.writes.merge(s.writes);
    result.misses += s.misses;
    result.errors += s.errors;
    result.allocations += s.allocations;
    for (const auto& [code, n] : s.errors_by_code) result.errors_by_code[code] += n;
    if (result.first_error.empty()) result.first_error = s.first_error;
  }
  if (history) TESSERA_RETURN_IF_ERROR(history->close());
  return result;
}

namespace {

void print_latency(const char* label, const LatencyHistogram& h) {
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::printf("  %-7s %10llu ops   p50 %9.1f us   p99 %9.1f us   p999 %9.1f us   max %9.1f us\n",
              label, static_cast<unsigned long long>(h.count()), us(h.percentile(0.50)),
              us(h.percentile(0.99)), us(h.percentile(0.999)), us(h.max()));
}

}  // namespace

void print_load_report(const std::string& what, const LoadOptions& options,
                       const Workload& workload, const LoadResult& result) {
  LatencyHistogram all = result.reads;
  all.merge(result.writes);
  const double elapsed = std::max(result.elapsed_s, 1e-9);
  const double measured = static_cast<double>(std::max<uint64_t>(result.measured(), 1));
  std::printf("%s, %llu keys of %s B, values %s B, read ratio %.2f\n", what.c_str(),
              static_cast<unsigned long long>(options.keys), workload.key_sizes_text().c_str(),
              options.value_sizes.c_str(), options.read_ratio);
  std::printf("  %u threads, %u connections, pipeline %u (%llu requests in flight)\n",
              options.threads, options.connections, options.pipeline,
              static_cast<unsigned long long>(uint64_t{options.connections} * options.pipeline));
  std::printf("  setup %.2f s%s, warmup %.1f s, measured %.2f s\n", result.setup_s,
              options.preload ? " (preload)" : "", options.warmup_s, result.elapsed_s);
  std::printf("  throughput %.0f ops/s (%.0f reads/s, %.0f writes/s), %llu misses, %llu errors\n",
              static_cast<double>(all.count()) / elapsed,
              static_cast<double>(result.reads.count()) / elapsed,
              static_cast<double>(result.writes.count()) / elapsed,
              static_cast<unsigned long long>(result.misses),
              static_cast<unsigned long long>(result.errors));
  print_latency("all", all);
  print_latency("reads", result.reads);
  print_latency("writes", result.writes);
  const double tool_us = result.tool_cpu.total() * 1e6 / measured;
  std::printf("  cpu of the tool: %.1f us per request (user %.1f, system %.1f)\n", tool_us,
              result.tool_cpu.user * 1e6 / measured, result.tool_cpu.system * 1e6 / measured);
  double nodes_s = 0;
  for (const auto& [pid, seconds] : result.node_cpu_s) {
    nodes_s += seconds;
    std::printf("  cpu of node pid %d: %.1f us per request\n", static_cast<int>(pid),
                seconds * 1e6 / measured);
  }
  const double nodes_us = nodes_s * 1e6 / measured;
  if (result.node_cpu_s.size() > 1) {
    std::printf("  cpu of the %zu nodes together: %.1f us per request\n", result.node_cpu_s.size(),
                nodes_us);
  }
  if (!result.node_cpu_s.empty() && nodes_us > 0) {
    std::printf("  tool / node cpu: %.2fx\n", tool_us / nodes_us);
  }
  const double allocations = static_cast<double>(result.allocations) / measured;
  std::printf("  heap allocations of the tool: %.1f per request\n", allocations);
  for (const auto& [code, n] : result.errors_by_code) {
    std::printf("  error %s: %llu\n", std::string(status_code_name(code)).c_str(),
                static_cast<unsigned long long>(n));
  }
  if (result.errors != 0) std::printf("  first error: %s\n", result.first_error.c_str());
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::printf(
      "result ops_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f requests=%llu "
      "errors=%llu tool_cpu_us=%.2f node_cpu_us=%.2f allocs=%.2f\n",
      static_cast<double>(all.count()) / elapsed, us(all.percentile(0.50)),
      us(all.percentile(0.99)), us(all.percentile(0.999)), us(all.max()),
      static_cast<unsigned long long>(all.count()), static_cast<unsigned long long>(result.errors),
      tool_us, result.node_cpu_s.empty() ? 0.0 : nodes_us, allocations);
  std::fflush(stdout);
}

}  // namespace tessera::bench
