#include "memtable.h"

namespace tessera::lsm {

int MemTable::KeyComparator::operator()(const char* a, const char* b) const {
  return compare_internal_keys(memtable_entry_key(a), memtable_entry_key(b));
}

MemTable::MemTable() : table_(KeyComparator{}, &arena_) {}

void MemTable::add(SequenceNumber sequence, ValueType type, ByteView user_key, ByteView value) {
  size_t key_size = user_key.size() + kTagBytes;
  size_t encoded = varint32_length(static_cast<uint32_t>(key_size)) + key_size +
                   varint32_length(static_cast<uint32_t>(value.size())) + value.size();
  char* buf = arena_.allocate_aligned(encoded);
  char* p = encode_varint32(buf, static_cast<uint32_t>(key_size));
  std::memcpy(p, user_key.data(), user_key.size());
  p += user_key.size();
  uint64_t tag = pack_tag(sequence, type);
  std::memcpy(p, &tag, kTagBytes);
  p += kTagBytes;
  p = encode_varint32(p, static_cast<uint32_t>(value.size()));
  std::memcpy(p, value.data(), value.size());
  TESSERA_ASSERT(p + value.size() == buf + encoded);
  table_.insert(buf);
  entries_.fetch_add(1, std::memory_order_relaxed);
  payload_bytes_.fetch_add(user_key.size() + value.size(), std::memory_order_relaxed);
}

namespace {
ByteView entry_value(const char* entry) {
  ByteView key = memtable_entry_key(entry);
  const char* p = key.data() + key.size();
  uint32_t length = 0;
  p = decode_varint32(p, p + 5, &length);
  return {p, length};
}
}  // namespace

std::optional<MemTable::Lookup> MemTable::get(ByteView user_key, SequenceNumber snapshot) const {
  // Encode the lookup as a memtable entry so the skiplist comparator can use it directly.
  Bytes lookup;
  char header[5];
  size_t key_size = user_key.size() + kTagBytes;
  lookup.append(header, encode_varint32(header, static_cast<uint32_t>(key_size)) - header);
  append_internal_key(&lookup, user_key, snapshot, kValueTypeForSeek);
  Table::Iterator it(&table_);
  it.seek(lookup.data());
  if (!it.valid()) return std::nullopt;
  ByteView found = memtable_entry_key(it.key());
  if (user_key_of(found) != user_key) return std::nullopt;
  Lookup result;
  if (static_cast<ValueType>(tag_of(found) & 0xFF) == ValueType::kDeletion) {
    result.deleted = true;
  } else {
    result.value.assign(entry_value(it.key()));
  }
  return result;
}

class MemTable::MemTableIterator final : public InternalIterator {
 public:
  explicit MemTableIterator(std::shared_ptr<const MemTable> mem)
      : mem_(std::move(mem)), it_(&mem_->table_) {}
  bool valid() const override { return it_.valid(); }
  void seek_to_first() override { it_.seek_to_first(); }
  void seek(ByteView target) override {
    buffer_.clear();
    char header[5];
    buffer_.append(header, encode_varint32(header, static_cast<uint32_t>(target.size())) - header);
    buffer_.append(target);
    it_.seek(buffer_.data());
  }
  void next() override { it_.next(); }
  ByteView key() const override { return memtable_entry_key(it_.key()); }
  ByteView value() const override { return entry_value(it_.key()); }
  Status status() const override { return Status::ok(); }

 private:
  std::shared_ptr<const MemTable> mem_;
  Table::Iterator it_;
  Bytes buffer_;
};

std::unique_ptr<InternalIterator> MemTable::new_iterator(std::shared_ptr<const MemTable> self) {
  return std::make_unique<MemTableIterator>(std::move(self));
}

}  // namespace tessera::lsm
