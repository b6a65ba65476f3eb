// `tessera-bench client`: load on a node through the client API.
//
// C connections (one thread and one tessera::Client each) issue gets and puts on a key space of
// N keys with weighted mixes of key sizes (--key-sizes, or one --key-bytes) and value sizes
// (--value-sizes), for a duration or an operation count, and the command prints throughput and
// p50/p99/p999 latency (all, reads, writes). A key's size is a fixed function of its index and
// the seed, so preload and every connection agree on each key's bytes.
//
// Thread-safety: add_client_bench_command() is called once from main() while the App is built.
#pragma once

#include <CLI/CLI.hpp>

namespace tessera::bench {

// Registers the `client` subcommand on `app`. Its callback runs the benchmark; a setup failure
// (node unreachable, bad option) ends it with CLI::RuntimeError carrying a non-zero exit code.
void add_client_bench_command(CLI::App& app);

}  // namespace tessera::bench
