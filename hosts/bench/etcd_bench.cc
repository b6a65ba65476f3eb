#include "etcd_bench.h"

#include <cstdio>
#include <memory>
#include <string>

#include "etcd_target.h"
#include "load_driver.h"
#include "load_options.h"
#include "workload.h"

namespace tessera::bench {
namespace {

int fail(const Status& status) {
  std::fprintf(stderr, "tessera-bench etcd: %s\n", status.to_string().c_str());
  return 1;
}

int run_etcd_bench(LoadOptions& options) {
  if (Status valid = finish_load_options(options); !valid.is_ok()) return fail(valid);
  if (options.pipeline != 1) {
    return fail(Status::invalid_argument(
        "--pipeline must be 1 for etcd (HTTP/1.1 answers one request at a time); give more "
        "--connections instead"));
  }
  Result<Workload> workload = Workload::make(options);
  if (!workload.is_ok()) return fail(workload.status());
  Result<LoadResult> result = run_load(
      options, *workload, [](kj::AsyncIoContext& io, const std::string& address, Workload& w) {
        return make_etcd_target(io, address, w);
      });
  if (!result.is_ok()) return fail(result.status());
  print_load_report("tessera-bench etcd: " + options.address_list, options, *workload, *result);
  return result->errors == 0 ? 0 : 1;
}

}  // namespace

void add_etcd_bench_command(CLI::App& app) {
  auto options = std::make_shared<LoadOptions>();
  options->address_list = "127.0.0.1:2379";
  CLI::App* cmd = app.add_subcommand(
      "etcd",
      "Load an etcd cluster through its v3 JSON gateway with the client command's load; for "
      "side-by-side runs (scripts/bench-peers)");
  add_load_options(*cmd, *options);
  cmd->callback([options]() {
    const int code = run_etcd_bench(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace tessera::bench
