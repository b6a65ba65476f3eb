#include "client_bench.h"

#include <cstdio>
#include <memory>
#include <string>

#include "load_driver.h"
#include "load_options.h"
#include "tessera/client.h"
#include "tessera_target.h"
#include "workload.h"

namespace tessera::bench {
namespace {

int fail(const Status& status) {
  std::fprintf(stderr, "tessera-bench client: %s\n", status.to_string().c_str());
  return 1;
}

// Creates the table, runs warmup and measurement, prints the report. Returns the exit code.
int run_client_bench(LoadOptions& options) {
  if (Status valid = finish_load_options(options); !valid.is_ok()) return fail(valid);
  if (!options.token_file.empty()) {
    Result<Bytes> token = read_token_file(options.token_file);
    if (!token.is_ok()) return fail(token.status());
    options.token = std::move(token).value();
  }
  Result<Workload> workload = Workload::make(options);
  if (!workload.is_ok()) return fail(workload.status());
  {
    // The blocking client's event loop lives on this thread only until the table exists; the
    // load threads run loops of their own.
    Result<std::unique_ptr<Client>> admin = Client::connect(
        options.addresses.front(),
        ConnectOptions{
            .connect_timeout_ms = 5000, .token = options.token, .tls_ca_file = options.tls_ca});
    if (!admin.is_ok()) return fail(admin.status());
    Status created = (*admin)->create_table(options.table);
    if (!created.is_ok() && created.code() != StatusCode::kTableExists) return fail(created);
  }
  Result<LoadResult> result =
      run_load(options, *workload,
               [&options](kj::AsyncIoContext& io, const std::string& address, Workload& w) {
                 return make_tessera_target(io, address, options, w);
               });
  if (!result.is_ok()) return fail(result.status());
  print_load_report("tessera-bench client: " + options.address_list + " table " + options.table,
                    options, *workload, *result);
  return result->errors == 0 ? 0 : 1;
}

}  // namespace

void add_client_bench_command(CLI::App& app) {
  // Owned by the callback, which lives as long as the App; the options bind to it.
  auto options = std::make_shared<LoadOptions>();
  CLI::App* cmd = app.add_subcommand(
      "client",
      "Load running nodes through the client API with pipelined requests from a few event-loop "
      "threads; prints ops/s, p50/p99/p999 and CPU per request");
  add_load_options(*cmd, *options);
  cmd->get_option("--addr")->envname("TESSERA_ADDR");
  cmd->add_option("--table", options->table, "Table (created when missing)")->capture_default_str();
  cmd->add_option("--timeout-ms", options->timeout_ms, "Per-request timeout (0: node default)")
      ->capture_default_str();
  cmd->add_option("--token-file", options->token_file,
                  "File holding the client token every connection presents (the table is "
                  "created with it too: creating needs admin)");
  cmd->add_option("--tls-ca", options->tls_ca,
                  "Speak TLS, trusting the CA in this PEM file (a node with [tls] needs it)");
  cmd->add_option("--history", options->history_path,
                  "Write every operation to FILE as JSON lines for a linearizability check "
                  "(puts write unique values; no preload)");
  cmd->add_option("--io-buffer-bytes", options->io_buffer_bytes,
                  "Read buffer per connection; writes of one event-loop turn also leave "
                  "together (0: neither, Cap'n Proto's own exact reads and one write per "
                  "message)")
      ->capture_default_str();
  cmd->callback([options]() {
    const int code = run_client_bench(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace tessera::bench
