// tessera_engine_conformance: runs the engine conformance suite against one engine plugin file.
//
//   tessera_engine_conformance --plugin=<plugin.so> [--plugin-config=<file.toml>] [--durable]
//                              [gtest flags]
//
// --plugin (or env TESSERA_ENGINE_PLUGIN) names the plugin file; its folder is the plugin
// directory. --plugin-config names a TOML file whose root table is the engine's config section.
// --durable adds the reopen tests: the engine promises that synced data survives a restart.
// The randomized tests print TESSERA_SEED=<n> when they fail; env TESSERA_SEED replays.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "engine_fixture.h"

namespace {

using tessera::conformance::ConformanceOptions;

constexpr const char* kUsage =
    "usage: tessera_engine_conformance --plugin=<plugin.so> [--plugin-config=<file.toml>] "
    "[--durable] [gtest flags]\n";

// Reads our flags from argv (gtest has taken its own out already). Returns false on a bad flag.
bool parse_flags(int argc, char** argv, ConformanceOptions* options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--plugin=")) {
      options->plugin = std::string(arg.substr(std::strlen("--plugin=")));
    } else if (arg.starts_with("--plugin-config=")) {
      options->plugin_config = std::string(arg.substr(std::strlen("--plugin-config=")));
    } else if (arg == "--durable") {
      options->durable = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "unknown argument %s\n%s", argv[i], kUsage);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ConformanceOptions options;
  if (const char* plugin = std::getenv("TESSERA_ENGINE_PLUGIN")) options.plugin = plugin;
  if (!parse_flags(argc, argv, &options)) return 2;
  if (options.plugin.empty()) {
    std::fprintf(stderr, "no engine plugin given\n%s", kUsage);
    return 2;
  }
  std::error_code error;
  std::filesystem::path plugin = std::filesystem::canonical(options.plugin, error);
  if (error) {
    std::fprintf(stderr, "plugin file %s: %s\n", options.plugin.c_str(), error.message().c_str());
    return 2;
  }
  options.plugin = plugin;
  tessera::conformance::set_conformance_options(std::move(options));
  // Refuse a broken plugin or config once, with the loader's message, instead of in every test.
  tessera::Status opens = tessera::conformance::check_engine_opens();
  if (!opens.is_ok()) {
    std::fprintf(stderr, "%s\n", opens.to_string().c_str());
    return 1;
  }
  const tessera::conformance::ConformanceOptions& run = tessera::conformance::conformance_options();
  tessera::PluginLoader loader({run.plugin.parent_path()});
  tessera::Result<tessera::LoadedPlugin> loaded =
      loader.load(run.plugin.string(), tessera::PluginKind::kEngine);
  TESSERA_ASSERT(loaded.is_ok(), "the plugin made an engine a moment ago");
  std::printf("engine under test: %s %s (%s)%s\n", loaded->descriptor->name,
              loaded->descriptor->version, run.plugin.c_str(), run.durable ? ", durable" : "");
  return RUN_ALL_TESTS();
}
