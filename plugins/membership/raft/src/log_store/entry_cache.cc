#include "log_store/entry_cache.h"

namespace tessera::raftlog {

void EntryCache::put(GroupId group, const raft::Entry& entry) {
  Key key{group, entry.index};
  if (auto it = map_.find(key); it != map_.end()) erase(it);
  size_t charge = entry.data.size() + kCacheEntryOverheadBytes;
  if (charge > bytes_max_) return;
  while (bytes_ + charge > bytes_max_) erase(map_.find(lru_.back().key));
  lru_.push_front(Node{key, entry, charge});
  map_.emplace(key, lru_.begin());
  bytes_ += charge;
}

const raft::Entry* EntryCache::get(GroupId group, raft::Index index) {
  auto it = map_.find({group, index});
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->entry;
}

void EntryCache::erase_from(GroupId group, raft::Index index) {
  auto it = map_.lower_bound({group, index});
  while (it != map_.end() && it->first.first == group) erase(it++);
}

void EntryCache::erase_through(GroupId group, raft::Index index) {
  auto it = map_.lower_bound({group, 0});
  while (it != map_.end() && it->first.first == group && it->first.second <= index) erase(it++);
}

void EntryCache::erase(Map::iterator it) {
  bytes_ -= it->second->charge;
  lru_.erase(it->second);
  map_.erase(it);
}

}  // namespace tessera::raftlog
