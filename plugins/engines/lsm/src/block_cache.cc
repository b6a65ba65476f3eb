#include "block_cache.h"

namespace tessera::lsm {

BlockCache::BlockCache(size_t capacity_bytes) : shard_capacity_bytes_(capacity_bytes / kShards) {}

std::shared_ptr<const Block> BlockCache::lookup(uint64_t file_number, uint64_t offset) {
  Key key{file_number, offset};
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  return it->second->block;
}

void BlockCache::insert(uint64_t file_number, uint64_t offset, std::shared_ptr<const Block> block) {
  if (block->size() > shard_capacity_bytes_) return;  // would evict everything for nothing
  Key key{file_number, offset};
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  if (shard.index.count(key) != 0) return;  // another reader got there first
  shard.usage_bytes += block->size();
  shard.lru.push_front(Entry{key, std::move(block)});
  shard.index.emplace(key, shard.lru.begin());
  while (shard.usage_bytes > shard_capacity_bytes_ && !shard.lru.empty()) {
    Entry& victim = shard.lru.back();
    shard.usage_bytes -= victim.block->size();
    shard.index.erase(victim.key);
    shard.lru.pop_back();
  }
}

size_t BlockCache::usage_bytes() const {
  size_t total = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.usage_bytes;
  }
  return total;
}

}  // namespace tessera::lsm
