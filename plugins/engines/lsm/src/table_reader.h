// TableReader: an open SSTable. Opening reads and checks the footer, the index block and the
// bloom filter, which stay in memory for the life of the reader (about 1.25 bytes per key at 10
// bits per key, plus one index entry per data block). Data blocks are read on demand through the
// block cache.
//
// Every malformed byte (footer, checksum, block) is a Corruption status naming the file.
// Thread-safety: immutable after open; get() and iterators may run concurrently.
// Ownership: shared (std::shared_ptr) by the version set and every iterator reading it.
#pragma once

#include <memory>
#include <optional>

#include "block.h"
#include "block_cache.h"
#include "file_util.h"
#include "format.h"
#include "table_format.h"

namespace tessera::lsm {

class TableReader {
 public:
  // `cache` may be nullptr (no caching); it must outlive the reader.
  static Result<std::shared_ptr<const TableReader>> open(const fs::path& path, uint64_t file_number,
                                                         BlockCache* cache);

  // The newest entry of `user_key` with sequence <= snapshot: nullopt when the table has none.
  // `memory_only`: WouldBlock when the data block is not in the cache.
  struct Lookup {
    bool deleted = false;
    Bytes value;
  };
  Result<std::optional<Lookup>> get(ByteView user_key, SequenceNumber snapshot,
                                    bool memory_only = false) const;

  // fill_cache=false for compaction reads, which would only push hot blocks out.
  static std::unique_ptr<InternalIterator> new_iterator(std::shared_ptr<const TableReader> self,
                                                        bool fill_cache);

  // Offset in the file where entries >= internal_key begin (approximately).
  uint64_t approximate_offset(ByteView internal_key) const;

  uint64_t file_size() const { return file_->size(); }
  uint64_t entry_count() const { return entry_count_; }
  const fs::path& path() const { return file_->path(); }

  Result<std::shared_ptr<const Block>> read_block(const BlockHandle& handle, bool fill_cache) const;

 private:
  TableReader(std::unique_ptr<RandomAccessFile> file, uint64_t file_number, BlockCache* cache)
      : file_(std::move(file)), file_number_(file_number), cache_(cache) {}
  Result<Bytes> read_raw_block(const BlockHandle& handle) const;
  class TableIterator;

  std::unique_ptr<RandomAccessFile> file_;
  uint64_t file_number_;
  BlockCache* cache_;
  std::shared_ptr<const Block> index_;
  Bytes filter_;
  uint64_t entry_count_ = 0;
  uint64_t index_offset_ = 0;
};

// Decodes a handle from an index-block value; false on bad bytes.
bool decode_block_handle(ByteView in, BlockHandle* handle);

}  // namespace tessera::lsm
