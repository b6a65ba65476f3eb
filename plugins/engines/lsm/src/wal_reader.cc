#include "wal_reader.h"

#include <algorithm>

#include "format.h"
#include "tessera/crc32c.h"
#include "wal_format.h"

namespace tessera::lsm {

namespace {

// Reads bytes [offset, offset + n) of the log into out. REQUIRES: offset + n <= the log's size.
using ReadAt = std::function<Status(uint64_t offset, size_t n, char* out)>;

// A window onto a log, refilled from `read_at` as the reader moves on: it holds one chunk, or one
// record when that is larger.
class LogWindow {
 public:
  LogWindow(ReadAt read_at, uint64_t size) : read_at_(std::move(read_at)), size_(size) {}

  uint64_t size() const { return size_; }
  size_t buffer_bytes_max() const { return buffer_bytes_max_; }

  // Bytes [offset, offset + n) of the log, valid until the next call.
  // REQUIRES: offset + n <= size().
  Result<ByteView> view(uint64_t offset, size_t n) {
    TESSERA_REQUIRE(n <= size_ && offset <= size_ - n);
    if (offset < buffer_offset_ || offset + n > buffer_offset_ + buffer_.size()) {
      size_t want =
          static_cast<size_t>(std::min<uint64_t>(std::max(n, kLogReadChunkBytes), size_ - offset));
      if (buffer_.capacity() > kLogReadChunkBytes && want <= kLogReadChunkBytes) {
        Bytes().swap(buffer_);  // let go of the buffer of a large record
      }
      buffer_.resize(want);
      buffer_offset_ = offset;
      buffer_bytes_max_ = std::max(buffer_bytes_max_, want);
      TESSERA_RETURN_IF_ERROR(read_at_(offset, want, buffer_.data()));
    }
    return ByteView(buffer_.data() + (offset - buffer_offset_), n);
  }

  // True when every byte from `offset` to the end of the log is zero.
  Result<bool> only_zeros_from(uint64_t offset) {
    while (offset < size_) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kLogReadChunkBytes, size_ - offset));
      TESSERA_ASSIGN_OR_RETURN(ByteView chunk, view(offset, n));
      if (!std::all_of(chunk.begin(), chunk.end(), [](char c) { return c == '\0'; })) {
        return false;
      }
      offset += n;
    }
    return true;
  }

 private:
  const ReadAt read_at_;
  const uint64_t size_;
  Bytes buffer_;
  uint64_t buffer_offset_ = 0;  // log offset of buffer_[0]
  size_t buffer_bytes_max_ = 0;
};

Result<WalReadSummary> read_log(LogWindow* log, const std::string& name, TailPolicy policy,
                                const std::function<Status(ByteView payload)>& on_record) {
  WalReadSummary summary;
  const uint64_t size = log->size();
  uint64_t offset = 0;  // end of the last good record
  auto corrupt = [&](const char* what) {
    return Status::corruption(name + ": " + what + " at offset " + std::to_string(offset));
  };
  // Whether a failed check ends the log quietly: only zeros from `zeros_from` on, under a policy
  // that allows it there.
  auto zero_tail = [&](bool allowed, uint64_t zeros_from) -> Result<bool> {
    if (!allowed) return false;
    return log->only_zeros_from(zeros_from);
  };
  const bool torn_ok = policy == TailPolicy::kTolerateTornTail;
  const bool complete_only = policy == TailPolicy::kCompleteRecords;
  while (offset < size) {
    if (size - offset < kRecordHeaderBytes) {  // a header cut short by the end of the file
      if (!complete_only) break;
      TESSERA_ASSIGN_OR_RETURN(bool zeros, log->only_zeros_from(offset));
      if (zeros) break;
      return corrupt("record header cut short by the end of the file");
    }
    TESSERA_ASSIGN_OR_RETURN(ByteView header, log->view(offset, kRecordHeaderBytes));
    const uint32_t length = decode_fixed32_le(header.data());
    const uint32_t payload_check = decode_fixed32_le(header.data() + 8);
    if (decode_fixed32_le(header.data() + 4) != crc32c::value(header.data(), 4) ||
        length > kRecordPayloadBytesMax) {
      // A torn append leaves a bad header before zeros; a closed log only zeros, header included.
      TESSERA_ASSIGN_OR_RETURN(bool tail,
                               zero_tail(torn_ok || complete_only,
                                         complete_only ? offset : offset + kRecordHeaderBytes));
      if (tail) break;
      return corrupt("record header checksum mismatch");
    }
    if (length > size - offset - kRecordHeaderBytes) {  // a payload cut short
      if (!complete_only) break;
      return corrupt("record cut short by the end of the file");
    }
    const uint64_t end = offset + kRecordHeaderBytes + length;
    TESSERA_ASSIGN_OR_RETURN(ByteView payload, log->view(offset + kRecordHeaderBytes, length));
    if (payload_check != crc32c::value(payload.data(), payload.size())) {
      TESSERA_ASSIGN_OR_RETURN(bool tail, zero_tail(torn_ok, end));
      if (tail) break;
      return corrupt("record checksum mismatch");
    }
    Status status = on_record(payload);
    if (!status.is_ok()) return status.with_context(name);
    ++summary.records;
    offset = end;
  }
  summary.valid_bytes = offset;
  summary.dropped_bytes = size - offset;
  summary.buffer_bytes_max = log->buffer_bytes_max();
  return summary;
}

}  // namespace

Result<WalReadSummary> read_log_bytes(ByteView data, const std::string& name, TailPolicy policy,
                                      const std::function<Status(ByteView payload)>& on_record) {
  LogWindow log(
      [data](uint64_t offset, size_t n, char* out) {
        std::copy_n(data.data() + offset, n, out);
        return Status::ok();
      },
      data.size());
  return read_log(&log, name, policy, on_record);
}

Result<WalReadSummary> read_log_file(const fs::path& path, TailPolicy policy,
                                     const std::function<Status(ByteView payload)>& on_record) {
  TESSERA_ASSIGN_OR_RETURN(auto file, RandomAccessFile::open(path));
  const RandomAccessFile* f = file.get();
  LogWindow log([f](uint64_t offset, size_t n, char* out) { return f->read(offset, n, out); },
                f->size());
  return read_log(&log, path.string(), policy, on_record);
}

}  // namespace tessera::lsm
