// BtreeOptions: the tunables of the btree engine, read from the plugin's config section. The
// keys, defaults and meaning are listed once, in kConfigKeys (options.cc), which is also what
// the plugin descriptor declares to the host.
// Thread-safety: a value type.
#pragma once

#include <cstddef>
#include <span>

#include "page.h"
#include "tessera/config.h"
#include "tessera/plugin.h"

namespace tessera::btree {

inline constexpr size_t kBufferPoolBytesDefault = 64ull << 20;
// The pool must hold a root-to-leaf path for the writer and a few for readers.
inline constexpr size_t kBufferPoolFramesMin = 16;

struct BtreeOptions {
  // Page size of a new data file; an existing file keeps the size it was created with.
  size_t page_bytes = kPageBytesDefault;
  size_t buffer_pool_bytes_max = kBufferPoolBytesDefault;

  size_t buffer_pool_frames() const {
    return std::max(kBufferPoolFramesMin, buffer_pool_bytes_max / page_bytes);
  }

  // InvalidArgument naming the key for a bad value. Unknown keys were refused by the host.
  static Result<BtreeOptions> from_config(const ConfigSection& config);
};

std::span<const ConfigKeySpec> btree_config_keys();

}  // namespace tessera::btree
