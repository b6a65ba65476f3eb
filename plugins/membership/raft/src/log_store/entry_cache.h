// EntryCache: a bounded cache of recently written or read entries, least recently used out
// first, so that the common reads (a follower's append of what was just written, applying what
// just committed) need no disk read. Each entry is charged its data size plus
// kCacheEntryOverheadBytes; the total never exceeds bytes_max (an entry larger than that is
// not cached). Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <utility>

#include "raft/types.h"

namespace tessera::raftlog {

inline constexpr size_t kCacheEntryOverheadBytes = 128;

class EntryCache {
 public:
  using GroupId = uint64_t;
  explicit EntryCache(size_t bytes_max) : bytes_max_(bytes_max) {}

  // Inserts or replaces (group, entry.index).
  void put(GroupId group, const raft::Entry& entry);
  // The cached entry, marked as recently used, or nullptr. Valid until the next call.
  const raft::Entry* get(GroupId group, raft::Index index);
  // Drops the group's entries with index >= index.
  void erase_from(GroupId group, raft::Index index);
  // Drops the group's entries with index <= index.
  void erase_through(GroupId group, raft::Index index);

  size_t bytes() const { return bytes_; }
  size_t count() const { return map_.size(); }
  size_t bytes_max() const { return bytes_max_; }

 private:
  using Key = std::pair<GroupId, raft::Index>;
  struct Node {
    Key key;
    raft::Entry entry;
    size_t charge;
  };
  using Map = std::map<Key, std::list<Node>::iterator>;
  void erase(Map::iterator it);

  const size_t bytes_max_;
  size_t bytes_ = 0;
  std::list<Node> lru_;  // front: most recently used
  Map map_;
};

}  // namespace tessera::raftlog
