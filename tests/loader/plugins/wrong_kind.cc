// A placement plugin: loading it into an engine slot must fail on the kind.
#include "tessera/placement.h"
#include "tessera/plugin.h"

namespace {

tessera::Result<std::unique_ptr<tessera::Placement>> make_placement(
    const tessera::PluginContext&, const tessera::ConfigSection&) noexcept {
  return tessera::Status::not_supported("a loader test plugin makes nothing");
}

const tessera::PluginDescriptor descriptor{
    .abi_version = tessera::kPluginAbiVersion,
    .kind = tessera::PluginKind::kPlacement,
    .name = "wrong_kind",
    .version = "0.0.1",
    .description = "a placement plugin",
    .config_keys = nullptr,
    .config_key_count = 0,
    .make_placement = make_placement,
};

}  // namespace

TESSERA_EXPORT_PLUGIN(descriptor)
