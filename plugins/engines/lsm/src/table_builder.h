// TableBuilder: writes one SSTable (table_format.h) from entries added in internal-key order.
// Data blocks are cut at options.block_bytes; the bloom filter collects a hash per distinct user
// key (8 bytes of memory per key while building).
// Thread-safety: one thread. Ownership: borrows the file, which the caller syncs and closes.
#pragma once

#include <memory>
#include <vector>

#include "block_builder.h"
#include "file_util.h"
#include "table_format.h"

namespace tessera::lsm {

class TableBuilder {
 public:
  TableBuilder(const TableOptions& options, WritableFile* file);

  // REQUIRES: key > every key added before (internal-key order); finish() not called.
  void add(ByteView key, ByteView value);
  // Writes the remaining data block, filter, index and footer. Reports the first error any
  // write met.
  Status finish();

  uint64_t entry_count() const { return entry_count_; }
  // Bytes written so far, plus the block in progress.
  uint64_t size_estimate() const { return offset_ + data_block_.size_estimate(); }
  uint64_t file_size() const { return offset_; }

 private:
  void flush_data_block();
  BlockHandle write_block(ByteView contents, Compression compression);

  TableOptions options_;
  WritableFile* file_;
  Status status_;
  uint64_t offset_ = 0;
  uint64_t entry_count_ = 0;
  BlockBuilder data_block_;
  BlockBuilder index_block_;
  Bytes last_key_;
  std::vector<uint64_t> key_hashes_;
  Bytes last_user_key_;
  Bytes compressed_;
  bool finished_ = false;
};

}  // namespace tessera::lsm
