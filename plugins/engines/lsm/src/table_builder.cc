#include "table_builder.h"

#include <zstd.h>

#include "bloom.h"
#include "tessera/crc32c.h"
#include "format.h"
#include "tessera/coding.h"

namespace tessera::lsm {

TableBuilder::TableBuilder(const TableOptions& options, WritableFile* file)
    : options_(options), file_(file), data_block_(options.restart_interval), index_block_(1) {}

void TableBuilder::add(ByteView key, ByteView value) {
  TESSERA_REQUIRE(!finished_);
  ByteView user_key = user_key_of(key);
  if (entry_count_ == 0 || user_key != last_user_key_) {
    key_hashes_.push_back(bloom::hash_key(user_key));
    last_user_key_.assign(user_key);
  }
  data_block_.add(key, value);
  last_key_.assign(key);
  ++entry_count_;
  if (data_block_.size_estimate() >= options_.block_bytes) flush_data_block();
}

void TableBuilder::flush_data_block() {
  if (data_block_.empty()) return;
  BlockHandle handle = write_block(data_block_.finish(), options_.compression);
  data_block_.reset();
  Bytes encoded;
  put_varint64(&encoded, handle.offset);
  put_varint64(&encoded, handle.size);
  index_block_.add(last_key_, encoded);
}

BlockHandle TableBuilder::write_block(ByteView contents, Compression compression) {
  if (compression == Compression::kZstd) {
    compressed_.resize(ZSTD_compressBound(contents.size()));
    size_t n = ZSTD_compress(compressed_.data(), compressed_.size(), contents.data(),
                             contents.size(), options_.zstd_level);
    // Keep the block raw when compression fails or saves less than 1/8.
    if (ZSTD_isError(n) || n >= contents.size() - contents.size() / 8) {
      compression = Compression::kNone;
    } else {
      compressed_.resize(n);
      contents = compressed_;
    }
  }
  BlockHandle handle{offset_, contents.size()};
  char trailer[kBlockTrailerBytes];
  trailer[0] = static_cast<char>(compression);
  uint32_t crc = crc32c::extend(crc32c::value(contents.data(), contents.size()), trailer, 1);
  encode_fixed32_le(trailer + 1, crc);
  if (status_.is_ok()) status_ = file_->append(contents);
  if (status_.is_ok()) status_ = file_->append(ByteView(trailer, kBlockTrailerBytes));
  offset_ += contents.size() + kBlockTrailerBytes;
  return handle;
}

Status TableBuilder::finish() {
  TESSERA_REQUIRE(!finished_);
  finished_ = true;
  flush_data_block();
  Bytes filter = bloom::build(key_hashes_, options_.bloom_bits_per_key);
  std::vector<uint64_t>().swap(key_hashes_);
  BlockHandle filter_handle = write_block(filter, Compression::kNone);
  BlockHandle index_handle = write_block(index_block_.finish(), Compression::kNone);
  Bytes footer;
  put_fixed64_le(&footer, filter_handle.offset);
  put_fixed64_le(&footer, filter_handle.size);
  put_fixed64_le(&footer, index_handle.offset);
  put_fixed64_le(&footer, index_handle.size);
  put_fixed64_le(&footer, entry_count_);
  put_fixed32_le(&footer, kTableFormatVersion);
  put_fixed32_le(&footer, crc32c::value(footer.data(), footer.size()));
  put_fixed64_le(&footer, kTableMagic);
  TESSERA_ASSERT(footer.size() == kFooterBytes);
  if (status_.is_ok()) status_ = file_->append(footer);
  offset_ += footer.size();
  return status_;
}

}  // namespace tessera::lsm
