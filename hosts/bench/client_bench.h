// `tessera-bench client`: load on running nodes through the client API.
//
// A few event-loop threads (--threads) hold C connections (--connections) between them, each
// keeping P requests in flight (--pipeline), on a key space of N keys with weighted mixes of key
// and value sizes, for a duration (--seconds) and/or a request count (--requests). The command
// prints throughput, p50/p99/p999 latency (all, gets, puts), errors by code, its own CPU time
// and heap allocations per request, and the CPU per request of every --node-pid. See
// load_driver.h for how the load runs and tessera_target.h for the requests it sends.
//
// Thread-safety: add_client_bench_command() is called once from main() while the App is built.
#pragma once

#include <CLI/CLI.hpp>

namespace tessera::bench {

// Registers the `client` subcommand on `app`. Its callback runs the benchmark; a setup failure
// (node unreachable, bad option) or any failed request ends it with CLI::RuntimeError carrying
// a non-zero exit code.
void add_client_bench_command(CLI::App& app);

}  // namespace tessera::bench
