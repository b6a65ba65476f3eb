// An engine plugin whose factory fails, as one would on a data directory it cannot use.
#include "tessera/engine.h"
#include "tessera/plugin.h"

namespace {

tessera::Result<std::unique_ptr<tessera::Engine>> make_engine(
    const tessera::PluginContext& context, const tessera::ConfigSection&) noexcept {
  return tessera::Status::io_error("cannot open " + context.data_dir.string() + "/LOCK");
}

const tessera::PluginDescriptor descriptor{
    .abi_version = tessera::kPluginAbiVersion,
    .kind = tessera::PluginKind::kEngine,
    .name = "factory_error",
    .version = "0.0.1",
    .description = "its factory always fails",
    .config_keys = nullptr,
    .config_key_count = 0,
    .make_engine = make_engine,
};

}  // namespace

TESSERA_EXPORT_PLUGIN(descriptor)
