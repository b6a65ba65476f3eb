#include "block.h"

#include "format.h"

namespace tessera::lsm {

Result<std::shared_ptr<const Block>> Block::parse(Bytes contents, std::string origin) {
  if (contents.size() < 4) return Status::corruption(origin + ": block too short");
  uint32_t num_restarts = decode_fixed32_le(contents.data() + contents.size() - 4);
  uint64_t restart_bytes = (uint64_t{num_restarts} + 1) * 4;
  if (num_restarts == 0 || restart_bytes > contents.size()) {
    return Status::corruption(origin + ": bad restart count in block");
  }
  auto restart_offset = static_cast<uint32_t>(contents.size() - restart_bytes);
  return std::shared_ptr<const Block>(
      new Block(std::move(contents), restart_offset, num_restarts, std::move(origin)));
}

class Block::BlockIterator final : public InternalIterator {
 public:
  explicit BlockIterator(std::shared_ptr<const Block> block)
      : block_(std::move(block)), data_(block_->data_.data()) {}

  bool valid() const override { return valid_; }
  void seek_to_first() override {
    status_ = Status::ok();
    seek_to_restart(0);
    parse_next();
  }
  void seek(ByteView target) override {
    status_ = Status::ok();
    // Binary search for the last restart point whose key is < target.
    uint32_t left = 0;
    uint32_t right = block_->num_restarts_ - 1;
    while (left < right) {
      uint32_t mid = (left + right + 1) / 2;
      uint32_t offset = restart_point(mid);
      uint32_t shared, unshared, value_len;
      const char* key = decode_entry(data_ + offset, data_ + block_->restart_offset_, &shared,
                                     &unshared, &value_len);
      if (key == nullptr || shared != 0) {
        corrupt();
        return;
      }
      if (compare_internal_keys(ByteView(key, unshared), target) < 0) {
        left = mid;
      } else {
        right = mid - 1;
      }
    }
    seek_to_restart(left);
    while (parse_next() && compare_internal_keys(key_, target) < 0) {
    }
  }
  void next() override {
    TESSERA_REQUIRE(valid_);
    parse_next();
  }
  ByteView key() const override { return key_; }
  ByteView value() const override { return value_; }
  Status status() const override { return status_; }

 private:
  uint32_t restart_point(uint32_t index) const {
    return decode_fixed32_le(data_ + block_->restart_offset_ + index * 4);
  }
  void seek_to_restart(uint32_t index) {
    key_.clear();
    next_offset_ = restart_point(index);
  }
  static const char* decode_entry(const char* p, const char* limit, uint32_t* shared,
                                  uint32_t* unshared, uint32_t* value_len) {
    if ((p = decode_varint32(p, limit, shared)) == nullptr) return nullptr;
    if ((p = decode_varint32(p, limit, unshared)) == nullptr) return nullptr;
    if ((p = decode_varint32(p, limit, value_len)) == nullptr) return nullptr;
    if (static_cast<uint64_t>(limit - p) < uint64_t{*unshared} + *value_len) return nullptr;
    return p;
  }
  // Decodes the entry at next_offset_; false at the end of the block or on bad bytes.
  bool parse_next() {
    const char* limit = data_ + block_->restart_offset_;
    const char* p = data_ + next_offset_;
    if (p >= limit) {
      valid_ = false;
      return false;
    }
    uint32_t shared, unshared, value_len;
    p = decode_entry(p, limit, &shared, &unshared, &value_len);
    if (p == nullptr || shared > key_.size()) return corrupt();
    key_.resize(shared);
    key_.append(p, unshared);
    if (key_.size() < kTagBytes) return corrupt();
    value_ = ByteView(p + unshared, value_len);
    next_offset_ = static_cast<uint32_t>(p + unshared + value_len - data_);
    valid_ = true;
    return true;
  }
  bool corrupt() {
    valid_ = false;
    status_ = Status::corruption(block_->origin_ + ": bad entry in block");
    return false;
  }

  std::shared_ptr<const Block> block_;
  const char* data_;
  uint32_t next_offset_ = 0;
  bool valid_ = false;
  Bytes key_;
  ByteView value_;
  Status status_;
};

std::unique_ptr<InternalIterator> Block::new_iterator(std::shared_ptr<const Block> self) {
  return std::make_unique<BlockIterator>(std::move(self));
}

}  // namespace tessera::lsm
