// An engine plugin whose descriptor has no name: refused as incomplete rather than crashing the
// host that prints it.
#include "tessera/plugin.h"

namespace {

const tessera::PluginDescriptor descriptor{
    .abi_version = tessera::kPluginAbiVersion,
    .kind = tessera::PluginKind::kEngine,
    .name = nullptr,
    .version = "0.0.1",
    .description = "no name",
    .config_keys = nullptr,
    .config_key_count = 0,
};

}  // namespace

TESSERA_EXPORT_PLUGIN(descriptor)
