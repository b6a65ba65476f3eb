// BlockCache: a bounded LRU cache of decoded data blocks, keyed by (file number, block offset).
//
// Capacity is block_cache_bytes_max, charged by block size, split over 16 shards (each with its
// own mutex, so concurrent readers rarely meet). A block handed out stays alive while its holder
// keeps the shared_ptr, even if the cache evicts it meanwhile; such blocks are not counted.
// File numbers are never reused, so entries of deleted files are simply never hit again and age
// out.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "block.h"

namespace tessera::lsm {

class BlockCache {
 public:
  explicit BlockCache(size_t capacity_bytes);

  std::shared_ptr<const Block> lookup(uint64_t file_number, uint64_t offset);
  void insert(uint64_t file_number, uint64_t offset, std::shared_ptr<const Block> block);

  size_t usage_bytes() const;
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct Key {
    uint64_t file_number;
    uint64_t offset;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.file_number * 0x9E3779B97F4A7C15ull ^ k.offset);
    }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const Block> block;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index;
    size_t usage_bytes = 0;
  };
  Shard& shard_of(const Key& key) { return shards_[KeyHash()(key) % kShards]; }

  const size_t shard_capacity_bytes_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace tessera::lsm
