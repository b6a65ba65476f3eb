// tessera-bench: benchmarks, one subcommand per mode.
//
//   tessera-bench engine ...   engine plugins side by side, in process (engine_bench.h)
//   tessera-bench client ...   running nodes through the client API (client_bench.h)
//   tessera-bench etcd ...     an etcd cluster with the same load, for comparison (etcd_bench.h)
//
// Hook for a new mode: write <mode>_bench.h/.cc with `void add_<mode>_bench_command(CLI::App&)`
// registering a subcommand, and call it below.
#include <CLI/CLI.hpp>

#include "engine_bench.h"
#ifdef TESSERA_BENCH_HAS_CLIENT
#include "client_bench.h"
#include "etcd_bench.h"
#endif

int main(int argc, char** argv) {
  CLI::App app{"tessera-bench: measure Tessera's engines and nodes"};
  app.require_subcommand(1);
  tessera::bench::add_engine_bench_command(app);
#ifdef TESSERA_BENCH_HAS_CLIENT
  tessera::bench::add_client_bench_command(app);
  tessera::bench::add_etcd_bench_command(app);
#endif
  CLI11_PARSE(app, argc, argv);
  return 0;
}
