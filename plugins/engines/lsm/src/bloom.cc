#include "bloom.h"

#include <xxhash.h>

#include <algorithm>

namespace tessera::lsm::bloom {

uint64_t hash_key(ByteView user_key) { return XXH3_64bits(user_key.data(), user_key.size()); }

Bytes build(const std::vector<uint64_t>& key_hashes, int bits_per_key) {
  int k = std::clamp(static_cast<int>(bits_per_key * 0.69), 1, 30);
  size_t bits = std::max<size_t>(64, key_hashes.size() * static_cast<size_t>(bits_per_key));
  size_t bytes = (bits + 7) / 8;
  bits = bytes * 8;
  Bytes filter(bytes, '\0');
  for (uint64_t hash : key_hashes) {
    auto h = static_cast<uint32_t>(hash);
    auto delta = static_cast<uint32_t>(hash >> 32);
    for (int i = 0; i < k; ++i) {
      size_t bit = h % bits;
      filter[bit / 8] = static_cast<char>(filter[bit / 8] | (1 << (bit % 8)));
      h += delta;
    }
  }
  filter.push_back(static_cast<char>(k));
  return filter;
}

bool may_contain(ByteView filter, uint64_t key_hash) {
  if (filter.size() < 2) return true;
  size_t bits = (filter.size() - 1) * 8;
  int k = static_cast<uint8_t>(filter.back());
  if (k < 1 || k > 30) return true;
  auto h = static_cast<uint32_t>(key_hash);
  auto delta = static_cast<uint32_t>(key_hash >> 32);
  for (int i = 0; i < k; ++i) {
    size_t bit = h % bits;
    if ((filter[bit / 8] & (1 << (bit % 8))) == 0) return false;
    h += delta;
  }
  return true;
}

}  // namespace tessera::lsm::bloom
