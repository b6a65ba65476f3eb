// The `btree` engine plugin: descriptor and factory. The engine keeps its file in the plugin's
// data directory (PluginContext::data_dir).
#include "btree_engine.h"
#include "options.h"
#include "tessera/plugin.h"

namespace tessera::btree {
namespace {

Result<std::unique_ptr<Engine>> make_btree_engine(const PluginContext& context,
                                                  const ConfigSection& config) noexcept {
  if (context.data_dir.empty()) {
    return Status::invalid_argument("btree engine: needs a data directory");
  }
  TESSERA_ASSIGN_OR_RETURN(BtreeOptions options, BtreeOptions::from_config(config));
  TESSERA_ASSIGN_OR_RETURN(auto engine, BtreeEngine::open(context.data_dir, options));
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace

extern const PluginDescriptor btree_engine_descriptor;
const PluginDescriptor btree_engine_descriptor{
    .abi_version = kPluginAbiVersion,
    .kind = PluginKind::kEngine,
    .name = "btree",
    .version = "1.0.0",
    .description = "copy-on-write B+ tree in one paged file: buffer pool, meta-page root switch, "
                   "group commit",
    .config_keys = btree_config_keys().data(),
    .config_key_count = btree_config_keys().size(),
    .make_engine = make_btree_engine,
};

}  // namespace tessera::btree

TESSERA_EXPORT_PLUGIN(tessera::btree::btree_engine_descriptor)
