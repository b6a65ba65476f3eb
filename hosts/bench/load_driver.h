// run_load: a closed-loop load of pipelined requests from a few event-loop threads.
//
// Each of `threads` threads runs one KJ event loop (kj::setupAsyncIo) with its share of the
// connections (connection i on thread i % threads). Each connection keeps `pipeline` requests in
// flight: every answer records its latency and sends the next request from the same promise
// continuation, so a thread never blocks per request and no thread exists per connection or per
// request. Phases: setup (connect, then preload: the key space split between connections, each
// writing its part with `pipeline` preload requests in flight), warmup (unmeasured), measure (an
// answer that arrives in it is counted and timed), stop (requests still in flight are
// cancelled). The control thread (the caller) moves the phases on; the load threads read the
// phase on every answer and every 5 ms.
//
// Measurement: latency from send to answer in a LatencyHistogram per thread (fixed memory);
// CPU of this process (getrusage) and of every --node-pid (/proc) over the measured window;
// heap allocations of the load threads in the window (malloc_counter.h). With
// --history, every operation of every phase is also written to the history (history.h), one
// client per request slot; requests cancelled at the stop are recorded with an unknown outcome.
//
// Thread-safety: run_load() blocks its caller until the run ends; call it from one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "latency_histogram.h"
#include "load_options.h"
#include "load_target.h"
#include "process_cpu.h"
#include "tessera/status.h"
#include "workload.h"

namespace tessera::bench {

struct LoadResult {
  LatencyHistogram reads;
  LatencyHistogram writes;
  uint64_t misses = 0;  // gets of keys with no value
  uint64_t errors = 0;  // in any phase
  std::map<StatusCode, uint64_t> errors_by_code;
  std::string first_error;
  double setup_s = 0;
  double elapsed_s = 0;                              // the measured window
  CpuSeconds tool_cpu;                               // this process, over the measured window
  std::vector<std::pair<pid_t, double>> node_cpu_s;  // per --node-pid, over the same window
  uint64_t allocations = 0;                          // by the load threads in the measured window

  uint64_t measured() const { return reads.count() + writes.count(); }
};

// Runs the load `options` describes against targets from `make_target`. Returns the result
// when the run measured (requests may still have failed: see errors); an error when it could
// not: a connection or the preload failed (with the server's or the connection's status), the
// threads were not ready within the setup bound (Timeout), or a --node-pid cannot be read.
// REQUIRES: finish_load_options(options) succeeded.
Result<LoadResult> run_load(const LoadOptions& options, const Workload& workload,
                            const LoadTargetFactory& make_target);

// Prints the report: throughput, p50/p99/p999/max of all requests, gets and puts, errors by
// code, the tool's and the nodes' CPU per request and allocations per request, and a last line
// `result key=value ...` for scripts. `what` names the command and server ("tessera-bench
// client: 127.0.0.1:7400 table bench").
void print_load_report(const std::string& what, const LoadOptions& options,
                       const Workload& workload, const LoadResult& result);

}  // namespace tessera::bench
