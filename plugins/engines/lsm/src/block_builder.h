// BlockBuilder: builds the key/value blocks of an SSTable (data blocks and the index block).
//
//   block    := entry* restart* num_restarts
//   entry    := varint32(shared) varint32(unshared) varint32(value_len) key_suffix value
//   restart  := fixed32_le(offset of an entry whose shared == 0)
//   num_restarts := fixed32_le(count), >= 1
//
// Keys are prefix-compressed against the previous key: `shared` bytes are taken from it and
// `key_suffix` holds the rest. Every `restart_interval`-th entry stores its key in full and is
// listed as a restart point, so that a reader can binary-search the restarts and decode forward
// from there.
// Thread-safety: none. Ownership: owns its buffer; finish() returns a view of it.
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/bytes.h"

namespace tessera::lsm {

class BlockBuilder {
 public:
  explicit BlockBuilder(int restart_interval);

  // REQUIRES: key > every key added since the last reset() (internal-key order); !finished.
  void add(ByteView key, ByteView value);
  // Appends the restart array; the view is valid until reset() or destruction.
  ByteView finish();
  void reset();

  // Size the block will have if finished now.
  size_t size_estimate() const { return buffer_.size() + (restarts_.size() + 1) * 4; }
  bool empty() const { return buffer_.empty(); }

 private:
  const int restart_interval_;
  Bytes buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;
  bool finished_ = false;
  Bytes last_key_;
};

}  // namespace tessera::lsm
