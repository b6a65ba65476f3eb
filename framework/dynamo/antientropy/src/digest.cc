#include "tessera/antientropy/digest.h"

// The state struct on the stack, rather than XXH64_createState on the heap.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

namespace tessera::antientropy {

Digest digest_of(ByteView key, ByteView versions) {
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  const uint32_t size = static_cast<uint32_t>(key.size());
  const unsigned char length[4] = {
      static_cast<unsigned char>(size), static_cast<unsigned char>(size >> 8),
      static_cast<unsigned char>(size >> 16), static_cast<unsigned char>(size >> 24)};
  XXH64_update(&state, length, sizeof(length));
  XXH64_update(&state, key.data(), key.size());
  XXH64_update(&state, versions.data(), versions.size());
  return XXH64_digest(&state);
}

}  // namespace tessera::antientropy
