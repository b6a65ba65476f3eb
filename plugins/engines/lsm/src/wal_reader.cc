#include "wal_reader.h"

#include "crc32c.h"
#include "format.h"
#include "wal_format.h"

namespace tessera::lsm {

Result<WalReadSummary> read_log_bytes(ByteView data, const std::string& name, TailPolicy policy,
                                      const std::function<Status(ByteView payload)>& on_record) {
  WalReadSummary summary;
  size_t offset = 0;
  auto corrupt = [&](const char* what) {
    return Status::corruption(name + ": " + what + " at offset " + std::to_string(offset));
  };
  while (data.size() - offset >= kRecordHeaderBytes) {
    const char* header = data.data() + offset;
    if (decode_fixed32_le(header + 4) != crc32c::value(header, 4)) {
      return corrupt("record header checksum mismatch");
    }
    uint32_t length = decode_fixed32_le(header);
    if (length > kRecordPayloadBytesMax) return corrupt("record length out of range");
    if (length > data.size() - offset - kRecordHeaderBytes) break;  // torn payload
    const char* payload = header + kRecordHeaderBytes;
    size_t end = offset + kRecordHeaderBytes + length;
    if (decode_fixed32_le(header + 8) != crc32c::value(payload, length)) {
      if (policy == TailPolicy::kTolerateTornTail && end == data.size()) break;
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
