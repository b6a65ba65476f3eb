// `tessera-bench engine`: engine plugins side by side.
//
// Loads each named engine plugin through the ordinary PluginLoader, runs the same workloads on
// each (fillseq, fillrandom, overwrite, readrandom, readseq, seekrandom + scan, fillsync), and
// prints ops/s per engine with the ratios of the first engine to each other one. It also measures
// the disk's raw fsync rate (4 KiB write + fdatasync in a loop), the ceiling for fillsync. The
// last lines give each engine's RSS growth during fillrandom and the process's peak RSS
// (VmHWM of /proc/self/status), which covers every engine of the run.
//
// Configs: an engine's --config file applies to every workload. Without one, the unsynced
// workloads of lmdb run with `unsafe_nosync = true` (MDB_NOSYNC, as LMDB's own benchmarks do;
// lsm and rocksdb skip fsync on unsynced writes by default) and its fillsync with the defaults;
// the output header names each engine's config.
//
// Thread-safety: add_engine_bench_command() is called once from main() while the App is built.
#pragma once

#include <CLI/CLI.hpp>

namespace tessera::bench {

// Registers the `engine` subcommand on `app`; its callback runs the benchmark.
void add_engine_bench_command(CLI::App& app);

}  // namespace tessera::bench
