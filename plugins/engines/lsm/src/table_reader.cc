#include "table_reader.h"

#include <zstd.h>

#include "bloom.h"
#include "tessera/crc32c.h"
#include "tessera/coding.h"

namespace tessera::lsm {

bool decode_block_handle(ByteView in, BlockHandle* handle) {
  return get_varint64(&in, &handle->offset) && get_varint64(&in, &handle->size);
}

Result<std::shared_ptr<const TableReader>> TableReader::open(const fs::path& path,
                                                             uint64_t file_number,
                                                             BlockCache* cache) {
  TESSERA_ASSIGN_OR_RETURN(auto file, RandomAccessFile::open(path));
  auto corrupt = [&](const std::string& what) {
    return Status::corruption(path.string() + ": " + what);
  };
  if (file->size() < kFooterBytes) return corrupt("file too short to be a table");
  char footer[kFooterBytes];
  TESSERA_RETURN_IF_ERROR(file->read(file->size() - kFooterBytes, kFooterBytes, footer));
  if (decode_fixed64_le(footer + 48) != kTableMagic) return corrupt("bad table magic number");
  if (decode_fixed32_le(footer + 44) != crc32c::value(footer, 44)) {
    return corrupt("footer checksum mismatch");
  }
  uint32_t version = decode_fixed32_le(footer + 40);
  if (version != kTableFormatVersion) {
    return corrupt("unsupported table format version " + std::to_string(version));
  }
  BlockHandle filter{decode_fixed64_le(footer), decode_fixed64_le(footer + 8)};
  BlockHandle index{decode_fixed64_le(footer + 16), decode_fixed64_le(footer + 24)};
  uint64_t data_end = file->size() - kFooterBytes;
  for (const BlockHandle& h : {filter, index}) {
    if (h.offset > data_end || h.size + kBlockTrailerBytes > data_end - h.offset) {
      return corrupt("footer points outside the file");
    }
  }
  std::shared_ptr<TableReader> table(new TableReader(std::move(file), file_number, cache));
  table->entry_count_ = decode_fixed64_le(footer + 32);
  table->index_offset_ = index.offset;
  TESSERA_ASSIGN_OR_RETURN(table->filter_, table->read_raw_block(filter));
  TESSERA_ASSIGN_OR_RETURN(Bytes index_contents, table->read_raw_block(index));
  TESSERA_ASSIGN_OR_RETURN(table->index_,
                           Block::parse(std::move(index_contents), path.string() + " (index)"));
  return std::shared_ptr<const TableReader>(std::move(table));
}

Result<Bytes> TableReader::read_raw_block(const BlockHandle& handle) const {
  auto where = [&] {
    return path().string() + ": block at offset " + std::to_string(handle.offset);
  };
  if (handle.offset > file_->size() ||
      handle.size + kBlockTrailerBytes > file_->size() - handle.offset) {
    return Status::corruption(where() + " lies outside the file");
  }
  Bytes raw(handle.size + kBlockTrailerBytes, '\0');
  TESSERA_RETURN_IF_ERROR(file_->read(handle.offset, raw.size(), raw.data()));
  uint32_t expected = decode_fixed32_le(raw.data() + handle.size + 1);
  if (crc32c::value(raw.data(), handle.size + 1) != expected) {
    return Status::corruption(where() + ": checksum mismatch");
  }
  auto compression = static_cast<Compression>(raw[handle.size]);
  raw.resize(handle.size);
  switch (compression) {
    case Compression::kNone:
      return raw;
    case Compression::kZstd: {
      unsigned long long size = ZSTD_getFrameContentSize(raw.data(), raw.size());
      if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
          size > (64u << 20)) {
        return Status::corruption(where() + ": bad zstd frame");
      }
      Bytes out(size, '\0');
      size_t n = ZSTD_decompress(out.data(), out.size(), raw.data(), raw.size());
      if (ZSTD_isError(n) || n != size) return Status::corruption(where() + ": bad zstd frame");
      return out;
    }
  }
  return Status::corruption(where() + ": unknown compression type");
}

Result<std::shared_ptr<const Block>> TableReader::read_block(const BlockHandle& handle,
                                                             bool fill_cache) const {
  if (cache_ != nullptr) {
    if (auto block = cache_->lookup(file_number_, handle.offset)) return block;
  }
  TESSERA_ASSIGN_OR_RETURN(Bytes contents, read_raw_block(handle));
  TESSERA_ASSIGN_OR_RETURN(
      auto block, Block::parse(std::move(contents), path().string() + ": block at offset " +
                                                        std::to_string(handle.offset)));
  if (cache_ != nullptr && fill_cache) cache_->insert(file_number_, handle.offset, block);
  return block;
}

// Walks the index block and, inside it, one data block at a time.
class TableReader::TableIterator final : public InternalIterator {
 public:
  TableIterator(std::shared_ptr<const TableReader> table, bool fill_cache)
      : table_(std::move(table)),
        fill_cache_(fill_cache),
        index_(Block::new_iterator(table_->index_)) {}

  bool valid() const override { return data_ != nullptr && data_->valid(); }
  void seek_to_first() override {
    index_->seek_to_first();
    load_data_block();
    if (data_ != nullptr) data_->seek_to_first();
    skip_exhausted_blocks();
  }
  void seek(ByteView target) override {
    index_->seek(target);
    load_data_block();
    if (data_ != nullptr) data_->seek(target);
    skip_exhausted_blocks();
  }
  void next() override {
    TESSERA_REQUIRE(valid());
    data_->next();
    skip_exhausted_blocks();
  }
  ByteView key() const override { return data_->key(); }
  ByteView value() const override { return data_->value(); }
  Status status() const override {
    if (!status_.is_ok()) return status_;
    Status s = index_->status();
    if (!s.is_ok()) return s;
    return data_ != nullptr ? data_->status() : Status::ok();
  }

 private:
  void load_data_block() {
    if (!index_->valid()) {
      data_.reset();
      return;
    }
    BlockHandle handle;
    if (!decode_block_handle(index_->value(), &handle)) {
      status_ = Status::corruption(table_->path().string() + ": bad block handle in index");
      data_.reset();
      return;
    }
    if (data_ != nullptr && handle.offset == data_offset_) return;
    auto block = table_->read_block(handle, fill_cache_);
    if (!block.is_ok()) {
      status_ = block.status();
      data_.reset();
      return;
    }
    data_offset_ = handle.offset;
    data_ = Block::new_iterator(std::move(block).value());
  }
  void skip_exhausted_blocks() {
    while (data_ == nullptr || !data_->valid()) {
      if (!status_.is_ok() || (data_ != nullptr && !data_->status().is_ok())) return;
      if (!index_->valid()) {
        data_.reset();
        return;
      }
      index_->next();
      load_data_block();
      if (data_ != nullptr) data_->seek_to_first();
    }
  }

  std::shared_ptr<const TableReader> table_;
  bool fill_cache_;
  std::unique_ptr<InternalIterator> index_;
  std::unique_ptr<InternalIterator> data_;
  uint64_t data_offset_ = 0;
  Status status_;
};

std::unique_ptr<InternalIterator> TableReader::new_iterator(std::shared_ptr<const TableReader> self,
                                                            bool fill_cache) {
  return std::make_unique<TableIterator>(std::move(self), fill_cache);
}

Result<std::optional<TableReader::Lookup>> TableReader::get(ByteView user_key,
                                                            SequenceNumber snapshot,
                                                            bool memory_only) const {
  if (!bloom::may_contain(filter_, bloom::hash_key(user_key))) return std::optional<Lookup>();
  Bytes target = make_internal_key(user_key, snapshot, kValueTypeForSeek);
  auto index = Block::new_iterator(index_);
  index->seek(target);
  if (!index->valid()) {
    TESSERA_RETURN_IF_ERROR(index->status());
    return std::optional<Lookup>();
  }
  BlockHandle handle;
  if (!decode_block_handle(index->value(), &handle)) {
    return Status::corruption(path().string() + ": bad block handle in index");
  }
  std::shared_ptr<const Block> block;
  if (memory_only) {
    block = cache_ != nullptr ? cache_->lookup(file_number_, handle.offset) : nullptr;
    if (block == nullptr) return Status::would_block(path().string() + ": block not cached");
  } else {
    TESSERA_ASSIGN_OR_RETURN(block, read_block(handle, true));
  }
  auto data = Block::new_iterator(std::move(block));
  data->seek(target);
  if (!data->valid()) {
    TESSERA_RETURN_IF_ERROR(data->status());
    // The index key of this block is >= target, so its last entry is too: not reachable.
    return std::optional<Lookup>();
  }
  ParsedInternalKey parsed;
  if (!parse_internal_key(data->key(), &parsed)) {
    return Status::corruption(path().string() + ": bad internal key");
  }
  if (parsed.user_key != user_key) return std::optional<Lookup>();
  Lookup lookup;
  lookup.deleted = parsed.type == ValueType::kDeletion;
  if (!lookup.deleted) lookup.value.assign(data->value());
  return std::optional<Lookup>(std::move(lookup));
}

uint64_t TableReader::approximate_offset(ByteView internal_key) const {
  auto index = Block::new_iterator(index_);
  index->seek(internal_key);
  BlockHandle handle;
  if (index->valid() && decode_block_handle(index->value(), &handle)) return handle.offset;
  return index_offset_;  // past the last key: the end of the data
}

}  // namespace tessera::lsm
