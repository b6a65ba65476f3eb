// Block: a decoded, immutable SSTable block (format in block_builder.h) and its iterator.
//
// Block::parse checks the restart array against the block size; the iterator checks every entry
// it decodes and turns bad bytes into Corruption, so a damaged block never crashes a reader.
// Thread-safety: a Block is immutable and shared (std::shared_ptr) between the block cache and
// any number of iterators; each iterator is used by one thread.
#pragma once

#include <memory>
#include <string>

#include "iterator.h"
#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::lsm {

class Block {
 public:
  // `origin` names the file and offset for error messages.
  static Result<std::shared_ptr<const Block>> parse(Bytes contents, std::string origin);

  size_t size() const { return data_.size(); }
  const std::string& origin() const { return origin_; }

  // The iterator holds `self` alive.
  static std::unique_ptr<InternalIterator> new_iterator(std::shared_ptr<const Block> self);

 private:
  Block(Bytes data, uint32_t restart_offset, uint32_t num_restarts, std::string origin)
      : data_(std::move(data)),
        restart_offset_(restart_offset),
        num_restarts_(num_restarts),
        origin_(std::move(origin)) {}
  class BlockIterator;

  Bytes data_;
  uint32_t restart_offset_;
  uint32_t num_restarts_;
  std::string origin_;
};

}  // namespace tessera::lsm
