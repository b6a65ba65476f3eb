// MemTable: the in-memory, sorted write buffer of the engine.
//
// Entries are appended to an arena and indexed by a skiplist, encoded as
//   entry := varint32(internal_key_len) internal_key varint32(value_len) value
// Nothing is ever removed; a newer version of a key is a new entry with a higher sequence.
//
// Thread-safety: add() by one thread at a time (the write leader, or recovery); get(),
// iterators and memory_usage() from any thread concurrently with add().
// Ownership: shared (std::shared_ptr) by the engine and every iterator reading it.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "arena.h"
#include "format.h"
#include "iterator.h"
#include "skiplist.h"

namespace tessera::lsm {

class MemTable {
 public:
  MemTable();
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  void add(SequenceNumber sequence, ValueType type, ByteView user_key, ByteView value);

  // The newest version of `user_key` with sequence <= `snapshot`: nullopt when the memtable has
  // none (look further), otherwise found=true with a value or deleted=true.
  struct Lookup {
    bool deleted = false;
    Bytes value;
  };
  std::optional<Lookup> get(ByteView user_key, SequenceNumber snapshot) const;

  // Iterates internal keys. The iterator keeps the memtable alive through `self`.
  static std::unique_ptr<InternalIterator> new_iterator(std::shared_ptr<const MemTable> self);

  size_t memory_usage() const { return arena_.memory_usage(); }
  uint64_t entry_count() const { return entries_.load(std::memory_order_relaxed); }
  // Bytes of user keys and values added (what a user wrote into this memtable).
  uint64_t payload_bytes() const { return payload_bytes_.load(std::memory_order_relaxed); }

 private:
  struct KeyComparator {
    int operator()(const char* a, const char* b) const;
  };
  using Table = SkipList<const char*, KeyComparator>;
  class MemTableIterator;

  Arena arena_;
  Table table_;
  std::atomic<uint64_t> entries_{0};
  std::atomic<uint64_t> payload_bytes_{0};
};

// The internal key of an encoded memtable entry.
inline ByteView memtable_entry_key(const char* entry) {
  uint32_t length = 0;
  const char* p = decode_varint32(entry, entry + 5, &length);
  return {p, length};
}

}  // namespace tessera::lsm
