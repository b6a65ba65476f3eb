// InternalIterator: the cursor every source of entries implements (memtable, block, table, level,
// merge). Keys are internal keys (see format.h), in internal-key order.
//
// Thread-safety: one thread at a time. Ownership: key() and value() views stay good until the
// iterator moves or is destroyed. An iterator that meets bad bytes becomes invalid and reports
// Corruption through status().
#pragma once

#include <memory>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::lsm {

class InternalIterator {
 public:
  virtual ~InternalIterator() = default;
  virtual bool valid() const = 0;
  virtual void seek_to_first() = 0;
  // Positions at the first entry whose internal key is >= target.
  virtual void seek(ByteView target) = 0;
  // REQUIRES: valid().
  virtual void next() = 0;
  virtual ByteView key() const = 0;
  virtual ByteView value() const = 0;
  virtual Status status() const = 0;
};

// An iterator over nothing that reports `status` (OK for a plain empty iterator).
std::unique_ptr<InternalIterator> new_empty_iterator(Status status = Status::ok());

// Merges sorted children into one sorted stream. Equal keys (which the engine never produces
// from distinct sources) come out in child order.
std::unique_ptr<InternalIterator> new_merging_iterator(
    std::vector<std::unique_ptr<InternalIterator>> children);

}  // namespace tessera::lsm
