#include "load_options.h"

#include <algorithm>

namespace tessera::bench {

void add_load_options(CLI::App& cmd, LoadOptions& options) {
  cmd.add_option("--addr", options.address_list,
                 "Server address HOST:PORT, or several separated by commas (connections are "
                 "spread over them)")
      ->capture_default_str();
  cmd.add_option("-t,--threads", options.threads,
                 "Event-loop threads the connections are spread over (default: min(2, "
                 "connections))");
  cmd.add_option("-c,--connections", options.connections, "Connections, over all threads")
      ->capture_default_str();
  cmd.add_option("-P,--pipeline", options.pipeline, "Requests in flight on each connection")
      ->capture_default_str();
  cmd.add_option("--keys", options.keys, "Key space: keys are picked uniformly from it")
      ->capture_default_str();
  CLI::Option* key_bytes =
      cmd.add_option("--key-bytes", options.key_bytes, "Key length")->capture_default_str();
  cmd.add_option("--key-sizes", options.key_sizes,
                 "Key size mix SIZE[:WEIGHT],... e.g. 16:9,64:1 (default: every key --key-bytes); "
                 "a key's size is fixed by its index")
      ->excludes(key_bytes);
  cmd.add_option("--value-sizes,--value-bytes", options.value_sizes,
                 "Value size mix SIZE[:WEIGHT],... e.g. 100:8,1000:1.5,10000")
      ->capture_default_str();
  CLI::Option* ratio = cmd.add_option("--read-ratio,--ratio", options.read_ratio,
                                      "Fraction of requests that are gets")
                           ->capture_default_str();
  cmd.add_option("--workload", options.workload,
                 "put (only puts), get (only gets) or mixed (half each); instead of --read-ratio")
      ->check(CLI::IsMember({"put", "get", "mixed"}))
      ->excludes(ratio);
  cmd.add_option("--duration-s,--seconds", options.duration_s,
                 "Measured seconds (0: until --requests)")
      ->capture_default_str();
  cmd.add_option("--warmup-s", options.warmup_s, "Unmeasured seconds before measuring")
      ->capture_default_str();
  cmd.add_option("--ops,--requests", options.ops,
                 "Stop after this many measured requests (0: no bound)")
      ->capture_default_str();
  cmd.add_flag("!--no-preload", options.preload, "Do not write every key before measuring");
  cmd.add_option("--seed", options.seed, "Seed of keys, sizes and value bytes")
      ->capture_default_str();
  cmd.add_option("--node-pid", options.node_pids,
                 "A server process whose CPU time per request is reported beside the tool's "
                 "(repeat for a cluster: the sum is reported too)");
}

Status finish_load_options(LoadOptions& o) {
  o.addresses.clear();
  size_t start = 0;
  while (start <= o.address_list.size()) {
    size_t comma = o.address_list.find(',', start);
    if (comma == std::string::npos) comma = o.address_list.size();
    std::string address = o.address_list.substr(start, comma - start);
    if (address.empty()) return Status::invalid_argument("--addr: an empty address");
    o.addresses.push_back(std::move(address));
    start = comma + 1;
  }
  if (o.connections == 0 || o.connections > kConnectionsMax) {
    return Status::invalid_argument("--connections must be 1 to " +
                                    std::to_string(kConnectionsMax));
  }
  if (o.threads > kThreadsMax) {
    return Status::invalid_argument("--threads must be 1 to " + std::to_string(kThreadsMax));
  }
  if (o.threads == 0) o.threads = 2;
  o.threads = std::min(o.threads, o.connections);
  if (o.pipeline == 0 || o.pipeline > kPipelineMax) {
    return Status::invalid_argument("--pipeline must be 1 to " + std::to_string(kPipelineMax));
  }
  if (uint64_t{o.connections} * o.pipeline > kInFlightMax) {
    return Status::invalid_argument("--connections x --pipeline must be at most " +
                                    std::to_string(kInFlightMax));
  }
  if (o.io_buffer_bytes > kIoBufferBytesMax) {
    return Status::invalid_argument("--io-buffer-bytes must be at most " +
                                    std::to_string(kIoBufferBytesMax));
  }
  if (o.keys == 0) return Status::invalid_argument("--keys must be at least 1");
  if (o.workload == "put") o.read_ratio = 0;
  if (o.workload == "get") o.read_ratio = 1;
  if (o.workload == "mixed") o.read_ratio = 0.5;
  if (!(o.read_ratio >= 0 && o.read_ratio <= 1)) {
    return Status::invalid_argument("--read-ratio must be within [0, 1]");
  }
  if (!(o.duration_s >= 0 && o.duration_s <= kDurationSecondsMax) ||
      !(o.warmup_s >= 0 && o.warmup_s <= kDurationSecondsMax)) {
    return Status::invalid_argument("--seconds and --warmup-s must be within [0, 86400]");
  }
  if (o.duration_s == 0 && o.ops == 0) {
    return Status::invalid_argument("give a bound: --seconds > 0 or --requests > 0");
  }
  if (!o.history_path.empty()) o.preload = false;
  return Status::ok();
}

}  // namespace tessera::bench
