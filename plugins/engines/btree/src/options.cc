#include "options.h"

#include <array>

namespace tessera::btree {
namespace {

constexpr std::array kConfigKeys = {
    ConfigKeySpec{"page_bytes",
                  "page size of a new data file, a power of two in 512..32768 (default 4096); an "
                  "existing file keeps its own"},
    ConfigKeySpec{"buffer_pool_bytes_max",
                  "bytes of node pages cached in memory (default 64 MiB; at least 16 pages)"},
};

}  // namespace

std::span<const ConfigKeySpec> btree_config_keys() { return kConfigKeys; }

Result<BtreeOptions> BtreeOptions::from_config(const ConfigSection& config) {
  BtreeOptions o;
  TESSERA_ASSIGN_OR_RETURN(int64_t page, config.get_int("page_bytes", kPageBytesDefault,
                                                        kPageBytesMin, kPageBytesMax));
  if (!valid_page_bytes(static_cast<size_t>(page))) {
    return Status::invalid_argument(config.where("page_bytes") + ": must be a power of two");
  }
  o.page_bytes = static_cast<size_t>(page);
  TESSERA_ASSIGN_OR_RETURN(int64_t pool, config.get_int("buffer_pool_bytes_max",
                                                        kBufferPoolBytesDefault, 0, INT64_MAX));
  o.buffer_pool_bytes_max = static_cast<size_t>(pool);
  return o;
}

}  // namespace tessera::btree
