// `tessera-bench etcd`: the load of `tessera-bench client` against an etcd cluster, through
// etcd's v3 JSON gateway (etcd_target.h), so that scripts/bench-peers compares Tessera and etcd
// with one load generator: the same driver, latency histogram and CPU accounting.
//
// Flags are those of `client` (load_options.h) less --table and --timeout-ms; --pipeline must be
// 1. Puts go to /v3/kv/put, gets to /v3/kv/range (serializable: false, etcd's default, so a get
// is linearizable and goes through the leader).
//
// Thread-safety: add_etcd_bench_command() is called once from main() while the App is built.
#pragma once

#include <CLI/CLI.hpp>

namespace tessera::bench {

// Registers the `etcd` subcommand on `app`; failures end it with CLI::RuntimeError.
void add_etcd_bench_command(CLI::App& app);

}  // namespace tessera::bench
