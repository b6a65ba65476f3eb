// LoadOptions: what a load run does (`tessera-bench client` and `tessera-bench etcd`), and the
// command-line flags that set it.
//
// Shape of a run: `threads` event-loop threads hold `connections` connections between them
// (connection i on thread i % threads, to address i % addresses), and each connection keeps
// `pipeline` requests in flight. The run measures for `duration_s` or until `ops` measured
// requests, whichever comes first, after `warmup_s` unmeasured seconds.
//
// Thread-safety: plain data; the run reads it from all its threads and nobody writes it then.
#pragma once

#include <sys/types.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::bench {

inline constexpr uint32_t kConnectionsMax = 4096;
inline constexpr uint32_t kThreadsMax = 64;
inline constexpr uint32_t kPipelineMax = 1024;
// Requests in flight over all connections; each holds one request and one answer buffer.
inline constexpr uint64_t kInFlightMax = 65536;
inline constexpr double kDurationSecondsMax = 24 * 3600;
inline constexpr uint32_t kIoBufferBytesMax = 1 << 20;

struct LoadOptions {
  std::string address_list = "127.0.0.1:7400";  // HOST:PORT[,HOST:PORT...]
  std::vector<std::string> addresses;           // parsed from address_list by validate()
  std::string table = "bench";
  uint32_t threads = 0;  // 0: min(2, connections)
  uint32_t connections = 4;
  uint32_t pipeline = 1;
  uint64_t keys = 10'000;
  uint32_t key_bytes = 16;
  std::string key_sizes;  // a mix like value_sizes; empty: every key is key_bytes long
  std::string value_sizes = "100";
  double read_ratio = 0.5;
  std::string workload;  // put, get or mixed: sets read_ratio to 0, 1 or 0.5
  double duration_s = 10;
  double warmup_s = 1;
  uint64_t ops = 0;  // 0: bounded by the duration only
  bool preload = true;
  uint32_t timeout_ms = 0;
  uint32_t io_buffer_bytes = 16 * 1024;  // per connection; 0: unbuffered (client only)
  uint64_t seed = 1;
  std::vector<pid_t> node_pids;  // processes whose CPU time per request is reported
  // `client` only: write every operation to this file as a history (history.h). Puts then
  // write unique values ("c<client>.<n>") and the preload is skipped, so that every value a
  // get can read is one the history wrote.
  std::string history_path;
  // `client` only: a file holding the client token each connection presents (--token-file),
  // and the token read from it by run_client_bench; empty: none.
  std::string token_file;
  Bytes token;
  // `client` only: speak TLS, trusting the CA in this PEM file (--tls-ca); empty: plain TCP.
  std::string tls_ca;
};

// Adds the flags shared by every load command to `cmd`, bound to `options` (which must outlive
// the App).
void add_load_options(CLI::App& cmd, LoadOptions& options);

// Checks ranges, applies --workload, sets `threads` to min(threads or 2, connections), and
// splits the address list.
// InvalidArgument naming the flag when a value is out of range.
Status finish_load_options(LoadOptions& options);

}  // namespace tessera::bench
