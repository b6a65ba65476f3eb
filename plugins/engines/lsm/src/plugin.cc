// The `lsm` engine plugin: descriptor and factory. The engine keeps its files in the plugin's
// data directory (PluginContext::data_dir).
#include "tessera/plugin.h"

#include "db.h"
#include "options.h"

namespace tessera::lsm {
namespace {

Result<std::unique_ptr<Engine>> make_lsm_engine(const PluginContext& context,
                                                const ConfigSection& config) noexcept {
  if (context.data_dir.empty()) {
    return Status::invalid_argument("lsm engine: needs a data directory");
  }
  TESSERA_ASSIGN_OR_RETURN(LsmOptions options, LsmOptions::from_config(config));
  TESSERA_ASSIGN_OR_RETURN(auto engine, LsmEngine::open(context.data_dir, options));
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace

extern const PluginDescriptor lsm_engine_descriptor;
const PluginDescriptor lsm_engine_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kEngine,
    .name = "lsm",
    .version = "1.0.0",
    .description = "log-structured merge tree: WAL with group commit, SSTables, leveled compaction",
    .config_keys = lsm_config_keys().data(),
    .config_key_count = lsm_config_keys().size(),
    .make_engine = make_lsm_engine,
};

}  // namespace tessera::lsm

TESSERA_EXPORT_PLUGIN(tessera::lsm::lsm_engine_descriptor)
