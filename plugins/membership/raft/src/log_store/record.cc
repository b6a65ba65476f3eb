#include "log_store/record.h"

#include <cstring>

#include "tessera/crc32c.h"

namespace tessera::raftlog {
namespace {

void put_u8(Bytes* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

void put_u32(Bytes* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}

void put_u64(Bytes* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

void store_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

uint32_t load_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t load_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// A bounds-checked cursor over a payload: every read fails instead of running past the end.
class Cursor {
 public:
  explicit Cursor(ByteView in) : in_(in) {}
  size_t left() const { return in_.size() - pos_; }
  size_t pos() const { return pos_; }
  bool u8(uint8_t* v) {
    if (left() < 1) return false;
    *v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool u32(uint32_t* v) {
    if (left() < 4) return false;
    *v = load_u32(in_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool u64(uint64_t* v) {
    if (left() < 8) return false;
    *v = load_u64(in_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool skip(size_t n) {
    if (left() < n) return false;
    pos_ += n;
    return true;
  }
  bool bytes(size_t n, ByteView* v) {
    if (left() < n) return false;
    *v = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  ByteView in_;
  size_t pos_ = 0;
};

Status malformed(const char* what) { return Status::corruption(std::string("record: ") + what); }

// Reserves a record header and the payload's kind and group; finish_record fills the header.
size_t begin_record(Bytes* out, RecordKind kind, GroupId group) {
  size_t start = out->size();
  out->append(kRecordHeaderBytes, '\0');
  put_u8(out, static_cast<uint8_t>(kind));
  put_u64(out, group);
  return start;
}

void finish_record(Bytes* out, size_t start) {
  size_t payload_bytes = out->size() - start - kRecordHeaderBytes;
  TESSERA_ASSERT(payload_bytes <= kRecordPayloadBytesMax);
  char* header = out->data() + start;
  store_u32(header, static_cast<uint32_t>(payload_bytes));
  store_u32(header + 4, crc32c::value(header, 4));
  store_u32(header + 8, crc32c::value(header + kRecordHeaderBytes, payload_bytes));
}

void put_hard_state(Bytes* out, const HardState& hs) {
  put_u64(out, hs.term);
  put_u64(out, hs.vote);
  put_u64(out, hs.commit);
}

void put_members(Bytes* out, const std::vector<raft::NodeId>& ids) {
  TESSERA_REQUIRE(ids.size() <= kConfMembersMax);
  put_u32(out, static_cast<uint32_t>(ids.size()));
  for (raft::NodeId id : ids) put_u64(out, id);
}

void put_meta(Bytes* out, const SnapshotMeta& meta) {
  put_u64(out, meta.index);
  put_u64(out, meta.term);
  put_members(out, meta.conf.voters);
  put_members(out, meta.conf.learners);
}

bool get_hard_state(Cursor* in, HardState* hs) {
  return in->u64(&hs->term) && in->u64(&hs->vote) && in->u64(&hs->commit);
}

bool get_members(Cursor* in, std::vector<raft::NodeId>* ids) {
  uint32_t count = 0;
  if (!in->u32(&count) || count > kConfMembersMax || count > in->left() / 8) return false;
  ids->resize(count);
  for (auto& id : *ids) in->u64(&id);
  return true;
}

bool get_meta(Cursor* in, SnapshotMeta* meta) {
  return in->u64(&meta->index) && in->u64(&meta->term) && get_members(in, &meta->conf.voters) &&
         get_members(in, &meta->conf.learners);
}

uint32_t entry_check(Index index, const char* bytes, size_t n) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(index >> (8 * i));
  return crc32c::extend(crc32c::value(b, 8), bytes, n);
}

}  // namespace

void append_segment_header(Bytes* out, uint64_t number) {
  size_t start = out->size();
  out->append(kSegmentMagic, sizeof(kSegmentMagic));
  put_u32(out, kFormatVersion);
  put_u64(out, number);
  put_u32(out, crc32c::value(out->data() + start, kSegmentHeaderBytes - 4));
}

bool decode_segment_header(ByteView header, uint64_t* number) {
  if (header.size() < kSegmentHeaderBytes) return false;
  if (std::memcmp(header.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) return false;
  if (load_u32(header.data() + kSegmentHeaderBytes - 4) !=
      crc32c::value(header.data(), kSegmentHeaderBytes - 4)) {
    return false;
  }
  if (load_u32(header.data() + 8) != kFormatVersion) return false;
  *number = load_u64(header.data() + 12);
  return true;
}

void append_group_state(Bytes* out, RecordKind kind, GroupId group, const GroupMeta& meta) {
  TESSERA_REQUIRE(kind == RecordKind::kGroupState || kind == RecordKind::kCheckpointGroup);
  TESSERA_REQUIRE(meta.name.size() <= kGroupNameBytesMax);
  size_t start = begin_record(out, kind, group);
  put_u32(out, static_cast<uint32_t>(meta.name.size()));
  out->append(meta.name);
  put_hard_state(out, meta.hard_state);
  put_meta(out, meta.start);
  finish_record(out, start);
}

void append_remove(Bytes* out, GroupId group) {
  finish_record(out, begin_record(out, RecordKind::kRemove, group));
}

void append_hard_state(Bytes* out, GroupId group, const HardState& hard_state) {
  size_t start = begin_record(out, RecordKind::kHardState, group);
  put_hard_state(out, hard_state);
  finish_record(out, start);
}

void append_start(Bytes* out, GroupId group, const SnapshotMeta& meta, bool keep_suffix) {
  size_t start = begin_record(out, RecordKind::kStart, group);
  put_meta(out, meta);
  put_u8(out, keep_suffix ? 1 : 0);
  finish_record(out, start);
}

void append_checkpoint_end(Bytes* out, uint64_t group_count) {
  size_t start = begin_record(out, RecordKind::kCheckpointEnd, 0);
  put_u64(out, group_count);
  finish_record(out, start);
}

void append_entries(Bytes* out, GroupId group, std::span<const Entry> entries,
                    std::vector<EntrySpan>* spans) {
  TESSERA_REQUIRE(!entries.empty());
  size_t start = begin_record(out, RecordKind::kEntries, group);
  put_u64(out, entries.front().index);
  put_u32(out, static_cast<uint32_t>(entries.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    TESSERA_REQUIRE(e.index == entries.front().index + i);
    TESSERA_REQUIRE(e.data.size() <= kEntryDataBytesMax);
    size_t at = out->size();
    put_u64(out, e.term);
    put_u8(out, static_cast<uint8_t>(e.type));
    put_u32(out, static_cast<uint32_t>(e.data.size()));
    out->append(e.data);
    put_u32(out, entry_check(e.index, out->data() + at, out->size() - at));
    spans->push_back({e.term, static_cast<uint32_t>(at), static_cast<uint32_t>(out->size() - at)});
  }
  finish_record(out, start);
}

Status decode_record(ByteView payload, Record* out) {
  Cursor in(payload);
  uint8_t kind = 0;
  if (!in.u8(&kind) || !in.u64(&out->group)) return malformed("payload header cut short");
  out->kind = static_cast<RecordKind>(kind);
  switch (out->kind) {
    case RecordKind::kGroupState:
    case RecordKind::kCheckpointGroup: {
      uint32_t name_bytes = 0;
      ByteView name;
      if (!in.u32(&name_bytes) || name_bytes > kGroupNameBytesMax || !in.bytes(name_bytes, &name)) {
        return malformed("bad group name");
      }
      out->meta.name.assign(name);
      if (!get_hard_state(&in, &out->meta.hard_state) || !get_meta(&in, &out->meta.start)) {
        return malformed("bad group state");
      }
      break;
    }
    case RecordKind::kRemove:
      break;
    case RecordKind::kHardState:
      if (!get_hard_state(&in, &out->hard_state)) return malformed("bad hard state");
      break;
    case RecordKind::kStart: {
      uint8_t keep = 0;
      if (!get_meta(&in, &out->start) || !in.u8(&keep) || keep > 1) {
        return malformed("bad start point");
      }
      out->keep_suffix = keep == 1;
      break;
    }
    case RecordKind::kCheckpointEnd:
      if (!in.u64(&out->group_count)) return malformed("bad checkpoint end");
      break;
    case RecordKind::kEntries: {
      uint32_t count = 0;
      if (!in.u64(&out->first_index) || !in.u32(&count) || count == 0) {
        return malformed("bad entries header");
      }
      if (count > in.left() / (kEntryHeaderBytes + kEntryCheckBytes)) {
        return malformed("entry count larger than the record");
      }
      if (out->first_index == 0 || out->first_index + count < out->first_index) {
        return malformed("entry index out of range");
      }
      out->entries.clear();
      out->conf_entries.clear();
      out->entries.reserve(count);
      for (uint32_t i = 0; i < count; ++i) {
        size_t at = in.pos();
        uint64_t term = 0;
        uint8_t type = 0;
        uint32_t data_bytes = 0;
        if (!in.u64(&term) || !in.u8(&type) || !in.u32(&data_bytes) ||
            data_bytes > kEntryDataBytesMax || !in.skip(data_bytes)) {
          return malformed("entry cut short");
        }
        uint32_t check = 0;
        size_t end = in.pos();
        if (!in.u32(&check)) return malformed("entry check cut short");
        if (type > static_cast<uint8_t>(raft::EntryType::kConfChange)) {
          return malformed("unknown entry type");
        }
        if (check != entry_check(out->first_index + i, payload.data() + at, end - at)) {
          return malformed("entry check mismatch");
        }
        out->entries.push_back(
            {term, static_cast<uint32_t>(at), static_cast<uint32_t>(in.pos() - at)});
        if (type == static_cast<uint8_t>(raft::EntryType::kConfChange)) {
          Entry conf;
          conf.index = out->first_index + i;
          conf.term = term;
          conf.type = raft::EntryType::kConfChange;
          conf.data.assign(payload.data() + at + kEntryHeaderBytes, data_bytes);
          out->conf_entries.push_back(std::move(conf));
        }
      }
      break;
    }
    default:
      return malformed("unknown record kind");
  }
  if (in.left() != 0) return malformed("trailing bytes");
  return Status::ok();
}

Result<Entry> decode_entry(ByteView bytes, Index index) {
  Cursor in(bytes);
  Entry e;
  uint8_t type = 0;
  uint32_t data_bytes = 0;
  ByteView data;
  uint32_t check = 0;
  if (!in.u64(&e.term) || !in.u8(&type) || !in.u32(&data_bytes) ||
      data_bytes > kEntryDataBytesMax || !in.bytes(data_bytes, &data) || !in.u32(&check) ||
      in.left() != 0 || type > static_cast<uint8_t>(raft::EntryType::kConfChange)) {
    return Status::corruption("entry " + std::to_string(index) + " does not parse");
  }
  if (check != entry_check(index, bytes.data(), bytes.size() - kEntryCheckBytes)) {
    return Status::corruption("entry " + std::to_string(index) + ": checksum mismatch");
  }
  e.index = index;
  e.type = static_cast<raft::EntryType>(type);
  e.data.assign(data);
  return e;
}

}  // namespace tessera::raftlog
