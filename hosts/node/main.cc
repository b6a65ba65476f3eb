// tessera-node: serves the Tessera client API from one process, assembled from a TOML config.
//
//   tessera-node --config FILE [--id ID] [--data-dir DIR] [--listen HOST:PORT]
//                [--log-level LEVEL]
//
// Prints "tessera-node <id> listening on <host>:<port>" on stdout once it serves. Exit codes:
// 0 after a clean shutdown on SIGINT/SIGTERM, 1 runtime failure, 2 bad command line or config,
// 3 data directory locked by another process.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "tessera/config.h"
#include "leader_profile.h"
#include "tessera/dynamo/dynamo_profile.h"
#include "tessera/node/node.h"

namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;
constexpr int kExitLocked = 3;

int fail(int code, const tessera::Status& status) {
  std::cerr << "tessera-node: " << status.to_string() << std::endl;
  return code;
}

std::filesystem::path default_plugin_dir() {
  std::error_code error;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return (exe.parent_path() / TESSERA_PLUGIN_DIR_FROM_BIN).lexically_normal();
}

// The profile `[node] profile` names (node_config.cc has checked the name).
tessera::node::ProfileFactory profile_factory(const std::string& profile) {
  if (profile == tessera::node::kProfileDynamo) return tessera::dynamo::make_dynamo_profile;
  if (profile == tessera::node::kProfileLeader) return tessera::leader::make_leader_profile;
  return tessera::node::make_single_profile;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked signal mask.
  tessera::node::capture_signals();

  CLI::App app{"Tessera node: serves the client API on the configured address"};
  std::string config_file, node_id_flag, data_dir, listen, log_level;
  app.add_option("--config,-c", config_file, "TOML config file")->required();
  app.add_option("--id", node_id_flag, "override [node] id");
  app.add_option("--data-dir", data_dir, "override [node] data_dir");
  app.add_option("--listen", listen, "override [node] listen (host:port; port 0 picks one)");
  app.add_option("--log-level", log_level, "override [node] log_level");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int printed = app.exit(e);  // prints help (0) or the error
    return printed == 0 ? 0 : kExitConfig;
  }

  auto file = tessera::ConfigFile::load(config_file);
  if (!file.is_ok()) return fail(kExitConfig, file.status());
  auto config = tessera::node::parse_node_config((*file)->root());
  if (!config.is_ok()) return fail(kExitConfig, config.status());
  if (!node_id_flag.empty()) config->node_id = node_id_flag;
  if (!data_dir.empty()) config->data_dir = std::filesystem::absolute(data_dir);
  if (!listen.empty()) {
    tessera::Status parsed = tessera::node::parse_address(
        listen, "--listen", &config->listen_host, &config->listen_port);
    if (!parsed.is_ok()) return fail(kExitConfig, parsed);
  }
  if (!log_level.empty()) {
    tessera::Status checked = tessera::node::check_log_level(log_level, "--log-level");
    if (!checked.is_ok()) return fail(kExitConfig, checked);
    config->log_level = log_level;
  }

  auto logger = spdlog::stderr_color_mt("tessera");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config->log_level));

  std::string node_id = config->node_id;
  tessera::node::ProfileFactory make_profile = profile_factory(config->profile);
  tessera::node::Node node(std::move(config).value(), default_plugin_dir(), std::move(make_profile));
  tessera::Status started = node.start();
  if (started.code() == tessera::StatusCode::kBusy) return fail(kExitLocked, started);
  if (started.code() == tessera::StatusCode::kInvalidArgument ||
      started.code() == tessera::StatusCode::kNotFound ||
      started.code() == tessera::StatusCode::kNotSupported) {
    return fail(kExitConfig, started);
  }
  if (!started.is_ok()) return fail(kExitRuntime, started);

  tessera::Status served = node.serve([&](const std::string& address) {
    std::printf("tessera-node %s listening on %s\n", node_id.c_str(), address.c_str());
    std::fflush(stdout);
  });
  if (!served.is_ok()) return fail(kExitRuntime, served);
  return 0;
}
