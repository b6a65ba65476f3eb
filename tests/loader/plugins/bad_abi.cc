// An engine plugin built for a future plugin ABI: the loader must refuse it before touching
// anything else in the descriptor.
#include "tessera/plugin.h"

namespace {

const tessera::PluginDescriptor descriptor{
    .abi_version = tessera::kPluginAbiVersion + 1,
    .kind = tessera::PluginKind::kEngine,
    .name = "bad_abi",
    .version = "0.0.1",
    .description = "declares the next ABI version",
    .config_keys = nullptr,
    .config_key_count = 0,
};

}  // namespace

TESSERA_EXPORT_PLUGIN(descriptor)
