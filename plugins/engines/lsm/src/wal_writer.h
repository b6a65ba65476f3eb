// WalWriter: appends checksummed records (wal_format.h) to a log file: the write-ahead log and
// the manifest. Each record goes to the kernel in one write() call.
// Thread-safety: one thread at a time (the engine's write leader, or the holder of the engine
// mutex for the manifest). Ownership: owns its file.
#pragma once

#include <memory>

#include "file_util.h"

namespace tessera::lsm {

class WalWriter {
 public:
  // zero_fill_chunk_bytes: see WritableFile (the WAL uses it, the manifest does not).
  static Result<std::unique_ptr<WalWriter>> create(const fs::path& path,
                                                   uint64_t zero_fill_chunk_bytes = 0,
                                                   GrowHook grow = {});

  // REQUIRES: payload.size() <= kRecordPayloadBytesMax.
  Status add_record(ByteView payload);
  Status sync() { return file_->sync(); }
  // The last add_record() that failed left the file as it was (WritableFile::failed_cleanly).
  bool failed_cleanly() const { return file_->failed_cleanly(); }
  Status close() { return file_->close(); }
  uint64_t size() const { return file_->size(); }
  const fs::path& path() const { return file_->path(); }

 private:
  explicit WalWriter(std::unique_ptr<WritableFile> file) : file_(std::move(file)) {}
  std::unique_ptr<WritableFile> file_;
  Bytes buffer_;  // header + payload, reused so that a record is one write()
};

}  // namespace tessera::lsm
