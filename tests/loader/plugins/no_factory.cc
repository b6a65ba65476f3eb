// An engine plugin whose descriptor leaves the engine factory empty.
#include "tessera/plugin.h"

namespace {

const tessera::PluginDescriptor descriptor{
    .abi_version = tessera::kPluginAbiVersion,
    .kind = tessera::PluginKind::kEngine,
    .name = "no_factory",
    .version = "0.0.1",
    .description = "declares kind engine but sets no make_engine",
    .config_keys = nullptr,
    .config_key_count = 0,
};

}  // namespace

TESSERA_EXPORT_PLUGIN(descriptor)
