#include "wal_reader.h"

#include <algorithm>

#include "tessera/crc32c.h"
#include "format.h"
#include "wal_format.h"

namespace tessera::lsm {

namespace {

bool only_zeros_from(ByteView data, size_t offset) {
  if (offset >= data.size()) return true;
  return std::all_of(data.begin() + static_cast<std::ptrdiff_t>(offset), data.end(),
                     [](char c) { return c == '\0'; });
}

}  // namespace

Result<WalReadSummary> read_log_bytes(ByteView data, const std::string& name, TailPolicy policy,
                                      const std::function<Status(ByteView payload)>& on_record) {
  WalReadSummary summary;
  size_t offset = 0;
  auto corrupt = [&](const char* what) {
    return Status::corruption(name + ": " + what + " at offset " + std::to_string(offset));
  };
  const bool tolerate = policy == TailPolicy::kTolerateTornTail;
  while (data.size() - offset >= kRecordHeaderBytes) {
    const char* header = data.data() + offset;
    uint32_t length = decode_fixed32_le(header);
    if (decode_fixed32_le(header + 4) != crc32c::value(header, 4) ||
        length > kRecordPayloadBytesMax) {
      if (tolerate && only_zeros_from(data, offset + kRecordHeaderBytes)) break;
      return corrupt("record header checksum mismatch");
    }
    if (length > data.size() - offset - kRecordHeaderBytes) break;  // torn payload
    const char* payload = header + kRecordHeaderBytes;
    size_t end = offset + kRecordHeaderBytes + length;
    if (decode_fixed32_le(header + 8) != crc32c::value(payload, length)) {
      if (tolerate && only_zeros_from(data, end)) break;
      return corrupt("record checksum mismatch");
    }
    Status status = on_record(ByteView(payload, length));
    if (!status.is_ok()) return status.with_context(name);
    ++summary.records;
    offset = end;
  }
  summary.valid_bytes = offset;
  summary.dropped_bytes = data.size() - offset;
  return summary;
}

Result<WalReadSummary> read_log_file(const fs::path& path, TailPolicy policy,
                                     const std::function<Status(ByteView payload)>& on_record) {
  TESSERA_ASSIGN_OR_RETURN(Bytes data, read_whole_file(path));
  return read_log_bytes(data, path.string(), policy, on_record);
}

}  // namespace tessera::lsm
