#include "wal_writer.h"

#include "tessera/crc32c.h"
#include "format.h"
#include "wal_format.h"

namespace tessera::lsm {

Result<std::unique_ptr<WalWriter>> WalWriter::create(const fs::path& path,
                                                     uint64_t zero_fill_chunk_bytes,
                                                     GrowHook grow) {
  TESSERA_ASSIGN_OR_RETURN(auto file,
                           WritableFile::create(path, zero_fill_chunk_bytes, std::move(grow)));
  return std::unique_ptr<WalWriter>(new WalWriter(std::move(file)));
}

Status WalWriter::add_record(ByteView payload) {
  TESSERA_REQUIRE(payload.size() <= kRecordPayloadBytesMax, "log record too large");
  buffer_.clear();
  buffer_.resize(kRecordHeaderBytes);
  char* header = buffer_.data();
  encode_fixed32_le(header, static_cast<uint32_t>(payload.size()));
  encode_fixed32_le(header + 4, crc32c::value(header, 4));
  encode_fixed32_le(header + 8, crc32c::value(payload.data(), payload.size()));
  buffer_.append(payload);
  Status status = file_->append(buffer_);
  if (buffer_.capacity() > (1u << 20)) Bytes().swap(buffer_);  // do not pin a huge buffer
  return status;
}

}  // namespace tessera::lsm
