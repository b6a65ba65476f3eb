// HintStore: the versions a node keeps for a replica it stood in for (a sloppy quorum's hinted
// writes), until they are handed over to their owner.
//
// Hints are LocalStore extension records (local_store.h), in the same engine as the data:
//   extension_key(length_prefixed(owner) length_prefixed(table) key) -> record (stored_value.h)
//   extension_key(length_prefixed("") length_prefixed(owner) length_prefixed(table) key)
//       -> fixed64_be(ms): when the hint was first written (node ids are never empty, so these
//          sort before every hint and are never taken for one)
// A hinted write lands in this node's copy and in the hint in one atomic batch, so that a crash
// keeps both or neither; a dropped table takes its hints with it (they name tables by name, and
// would otherwise land in a table created later under the same name).
//
// Thread-safety: every method may be called concurrently. Ownership: borrows the store, which
// outlives it.
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/conflict.h"
#include "tessera/node/local_store.h"
#include "tessera/status.h"

namespace tessera::dynamo {

// Versions this node holds for another, to hand over.
struct Hint {
  NodeId owner;
  std::string table;
  Bytes key;
  std::vector<VersionedValue> versions;
  Bytes record;  // the stored bytes: drop_hint removes the hint only while they are unchanged
  // When the hint was first written (wall-clock ms); 0 for a hint kept before hints had times.
  uint64_t first_hinted_ms = 0;
};

struct HintPage {
  std::vector<Hint> hints;
  size_t unreadable = 0;  // hints that do not parse (Corruption); passed over and left alone
  Bytes next_cursor;      // empty when the last hint was read
};

class HintStore {
 public:
  // Registers the drop hook. REQUIRES: before `store` serves requests. `now_ms` stamps new
  // hints (wall-clock milliseconds).
  HintStore(node::LocalStore* store, std::function<uint64_t()> now_ms);

  // LocalStore::merge_versions, and when `hint_for` names the home replica this node stands in
  // for, the versions kept as a hint owed to it in the same atomic write. With
  // Waiting::kNever a hinted write answers WouldBlock (its hint lock is not only tried).
  Status merge_versions(std::string_view table, ByteView key,
                        std::vector<VersionedValue> versions, ByteView hint_for,
                        node::Waiting waiting = node::Waiting::kMay);
  // Up to `hints_max` hints from `cursor` (empty = the first); resumable with next_cursor. A
  // hint that does not parse is counted in `unreadable` and skipped, not an error.
  Result<HintPage> hints(ByteView cursor, size_t hints_max) const;
  // Forgets `hint` once its owner has it, unless a later hinted write changed it meanwhile.
  Status drop_hint(const Hint& hint);

 private:
  class HintedWrite;
  // Adds to `batch` the deletion of every hint for `table`.
  Status delete_hints_of(std::string_view table, WriteBatch* batch) const;
  std::mutex& stripe(ByteView hint_key) const;

  static constexpr size_t kLockStripes = 256;
  node::LocalStore* const store_;
  const std::function<uint64_t()> now_ms_;
  // Serialize the writers of one hint. Always taken before the store's own key locks.
  mutable std::array<std::mutex, kLockStripes> stripes_;
};

}  // namespace tessera::dynamo
