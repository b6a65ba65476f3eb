// LogStore::open: scans the segments in order and rebuilds the index (format.h, log_store.h).
#include <algorithm>
#include <set>
#include <system_error>

#include "log_store/log_store.h"
#include "tessera/crc32c.h"

namespace tessera::raftlog {
namespace {

// How much of a segment recovery holds in memory: one chunk, or one record when larger.
constexpr size_t kRecoveryChunkBytes = 1u << 20;

uint32_t load_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// A window onto a segment file, refilled as the scan moves on.
class Window {
 public:
  Window(const SegmentFile& file, uint64_t size) : file_(file), size_(size) {}

  // Bytes [offset, offset + n). REQUIRES: offset + n <= size.
  Result<ByteView> view(uint64_t offset, size_t n) {
    if (offset < buffer_offset_ || offset + n > buffer_offset_ + buffer_.size()) {
      size_t want =
          static_cast<size_t>(std::min<uint64_t>(std::max(n, kRecoveryChunkBytes), size_ - offset));
      if (buffer_.capacity() > kRecoveryChunkBytes && want <= kRecoveryChunkBytes) {
        Bytes().swap(buffer_);
      }
      buffer_.resize(want);
      buffer_offset_ = offset;
      TESSERA_RETURN_IF_ERROR(file_.read(offset, want, buffer_.data()));
    }
    return ByteView(buffer_.data() + (offset - buffer_offset_), n);
  }

 private:
  const SegmentFile& file_;
  const uint64_t size_;
  Bytes buffer_;
  uint64_t buffer_offset_ = 0;
};

}  // namespace

Result<std::unique_ptr<LogStore>> LogStore::open(const LogStoreOptions& options) {
  if (options.dir.empty()) return Status::invalid_argument("raft log: no directory");
  if (options.gc_segments_per_call_max == 0 || options.read_bytes_max == 0) {
    return Status::invalid_argument("raft log: gc_segments_per_call_max and read_bytes_max > 0");
  }
  LogStoreOptions clamped = options;
  clamped.segment_bytes = std::clamp(options.segment_bytes, kSegmentBytesMin, kSegmentBytesMax);
  std::error_code error;
  fs::create_directories(clamped.dir, error);
  if (error) {
    return Status::io_error(clamped.dir.string() + ": create directory: " + error.message());
  }
  std::unique_ptr<LogStore> store(new LogStore(clamped));
  TESSERA_ASSIGN_OR_RETURN(store->lock_, DirLock::acquire(clamped.dir));
  TESSERA_RETURN_IF_ERROR(store->recover());
  return store;
}

Status LogStore::recover() {
  std::vector<uint64_t> numbers;
  std::error_code error;
  for (const auto& item : fs::directory_iterator(options_.dir, error)) {
    uint64_t number = 0;
    if (parse_segment_name(item.path().filename().string(), &number)) numbers.push_back(number);
  }
  if (error) return Status::io_error(options_.dir.string() + ": list: " + error.message());
  std::sort(numbers.begin(), numbers.end());
  for (size_t i = 1; i < numbers.size(); ++i) {
    if (numbers[i] != numbers[i - 1] + 1) {
      return Status::corruption(segment_path(options_.dir, numbers[i - 1] + 1).string() +
                                ": segment missing (the log has a gap)");
    }
  }
  if (!numbers.empty() && numbers.back() > UINT32_MAX) {
    return Status::corruption(segment_path(options_.dir, numbers.back()).string() +
                              ": segment number out of range");
  }
  next_segment_ = numbers.empty() ? 1 : numbers.back() + 1;
  for (size_t i = 0; i < numbers.size(); ++i) {
    TESSERA_RETURN_IF_ERROR(recover_segment(numbers[i], i + 1 == numbers.size()));
  }
  for (const auto& [id, g] : groups_) {
    if (g.log.first_index() != g.meta.start.index + 1) {
      return Status::corruption(options_.dir.string() + ": group " + std::to_string(id) +
                                ": entries begin at " + std::to_string(g.log.first_index()) +
                                " but the log starts after " + std::to_string(g.meta.start.index) +
                                " (entries in a deleted segment are missing)");
    }
  }
  // Appends continue in the last segment when recovery opened it for that, else in a new one.
  if (active_ == nullptr) return roll();
  active_->set_zero_fill(std::min(options_.zero_fill_chunk_bytes, options_.segment_bytes));
  return Status::ok();
}

Status LogStore::recover_segment(uint64_t number, bool last) {
  const fs::path path = segment_path(options_.dir, number);
  TESSERA_ASSIGN_OR_RETURN(auto file, SegmentFile::open(path, number, last));
  const uint64_t size = file->file_bytes();
  auto corrupt = [&](const std::string& what, uint64_t offset) {
    return Status::corruption(path.string() + ": " + what + " at offset " + std::to_string(offset));
  };
  // A last segment that holds nothing whole (no header, or part of its checkpoint only) was
  // being started when the process died: nothing in it was ever acknowledged.
  auto drop_last = [&]() -> Status {
    stats_.recovered_cut_bytes += size;
    file.reset();
    next_segment_ = number;  // reused: the numbers of live segments stay consecutive
    TESSERA_RETURN_IF_ERROR(remove_file(path));
    ++stats_.dir_syncs;
    return sync_dir(options_.dir);
  };
  Window window(*file, size);
  uint64_t header_number = 0;
  bool header_ok = false;
  if (size >= kSegmentHeaderBytes) {
    TESSERA_ASSIGN_OR_RETURN(ByteView header, window.view(0, kSegmentHeaderBytes));
    header_ok = decode_segment_header(header, &header_number);
  }
  if (!header_ok || header_number != number) {
    if (last) return drop_last();
    return corrupt("bad segment header", 0);
  }
  uint64_t offset = kSegmentHeaderBytes;
  uint64_t head_end = 0;
  std::vector<Record> checkpoint;
  bool checkpoint_done = false;
  while (offset < size) {
    std::string bad;
    uint32_t length = 0;
    ByteView payload;
    if (size - offset < kRecordHeaderBytes) {
      bad = "record header cut short";
    } else {
      TESSERA_ASSIGN_OR_RETURN(ByteView header, window.view(offset, kRecordHeaderBytes));
      length = load_u32(header.data());
      const uint32_t payload_check = load_u32(header.data() + 8);
      if (load_u32(header.data() + 4) != crc32c::value(header.data(), 4) ||
          length > kRecordPayloadBytesMax) {
        bad = "record header checksum mismatch";
      } else if (length > size - offset - kRecordHeaderBytes) {
        bad = "record cut short by the end of the file";
      } else {
        TESSERA_ASSIGN_OR_RETURN(payload, window.view(offset + kRecordHeaderBytes, length));
        if (payload_check != crc32c::value(payload.data(), payload.size())) {
          bad = "record checksum mismatch";
        }
      }
    }
    if (!bad.empty()) {
      if (last) break;  // the torn tail: cut below
      return corrupt(bad, offset);
    }
    Record record;
    Status status = decode_record(payload, &record);
    if (status.is_ok()) {
      if (!checkpoint_done) {
        if (record.kind == RecordKind::kCheckpointGroup) {
          checkpoint.push_back(std::move(record));
        } else if (record.kind == RecordKind::kCheckpointEnd &&
                   record.group_count == checkpoint.size()) {
          status = apply_checkpoint(checkpoint);
          checkpoint_done = true;
          checkpoint.clear();
          head_end = offset + kRecordHeaderBytes + length;
        } else {
          status = Status::corruption("the segment's checkpoint is malformed");
        }
      } else {
        status = replay(record, number, offset + kRecordHeaderBytes);
      }
    }
    if (!status.is_ok()) return corrupt(status.message(), offset);
    ++stats_.recovered_records;
    offset += kRecordHeaderBytes + length;
  }
  if (!checkpoint_done) {
    if (last) return drop_last();
    return corrupt("checkpoint incomplete", offset);
  }
  if (offset < size) {
    TESSERA_ASSERT(last);
    stats_.recovered_cut_bytes += size - offset;
    TESSERA_RETURN_IF_ERROR(file->truncate(offset));
  }
  SegmentFile* raw = file.get();
  segments_.emplace(number, std::move(file));
  if (last) {
    active_ = raw;
    active_head_end_ = head_end;
  }
  return Status::ok();
}

Status LogStore::apply_checkpoint(std::vector<Record>& records) {
  std::set<GroupId> seen;
  for (Record& r : records) {
    if (!seen.insert(r.group).second) {
      return Status::corruption("group " + std::to_string(r.group) + " twice in a checkpoint");
    }
    auto [it, created] = groups_.try_emplace(r.group);
    Group& g = it->second;
    if (created) g.log.reset(r.meta.start.index + 1);
    SnapshotMeta start = r.meta.start;
    g.meta = std::move(r.meta);
    apply_start(&g, start, true);
  }
  // The checkpoint is the whole set of groups at the time: any other was removed before.
  for (auto it = groups_.begin(); it != groups_.end();) {
    it = seen.count(it->first) ? std::next(it) : groups_.erase(it);
  }
  return Status::ok();
}

Status LogStore::replay(Record& r, uint64_t segment, uint64_t payload_offset) {
  auto it = groups_.find(r.group);
  if (r.kind == RecordKind::kGroupState) {
    if (it != groups_.end()) return Status::corruption("group created twice");
    Group& g = groups_[r.group];
    g.log.reset(r.meta.start.index + 1);
    g.meta = std::move(r.meta);
    return Status::ok();
  }
  if (r.kind == RecordKind::kCheckpointGroup || r.kind == RecordKind::kCheckpointEnd) {
    return Status::corruption("checkpoint record after the segment's checkpoint");
  }
  if (it == groups_.end()) {
    return Status::corruption("record of group " + std::to_string(r.group) +
                              ", which does not exist");
  }
  Group& g = it->second;
  switch (r.kind) {
    case RecordKind::kRemove:
      groups_.erase(it);
      return Status::ok();
    case RecordKind::kHardState:
      g.meta.hard_state = r.hard_state;
      return Status::ok();
    case RecordKind::kStart:
      if (r.start.index < g.meta.start.index) return Status::corruption("start moves backwards");
      apply_start(&g, r.start, r.keep_suffix);
      return Status::ok();
    case RecordKind::kEntries: {
      const Index first = r.first_index;
      if (first <= g.meta.start.index) return Status::corruption("entries at or below the start");
      if (first < g.log.first_index() || first > g.log.last_index() + 1) {
        // Entries before these were in segments already deleted, so they were compacted
        // later in the log; the check at the end of recovery proves it.
        g.log.reset(first);
      } else {
        g.log.truncate_from(first);
      }
      size_t next_conf = 0;
      for (size_t i = 0; i < r.entries.size(); ++i) {
        const EntrySpan& span = r.entries[i];
        const uint64_t at = payload_offset + span.offset;
        if (at > UINT32_MAX) return Status::corruption("entry offset out of range");
        g.log.append(first + i, span.term,
                     {static_cast<uint32_t>(segment), static_cast<uint32_t>(at), span.length});
        if (next_conf < r.conf_entries.size() && r.conf_entries[next_conf].index == first + i) {
          g.log.add_conf_entry(r.conf_entries[next_conf++]);
        }
      }
      return Status::ok();
    }
    default:
      return Status::corruption("unexpected record kind");
  }
}

}  // namespace tessera::raftlog
