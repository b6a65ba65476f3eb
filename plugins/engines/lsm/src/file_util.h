// Files of the engine's data directory and the few POSIX calls the engine makes on them.
//
// Directory layout:
//   CURRENT            name of the live manifest, replaced atomically (write tmp, fsync, rename)
//   MANIFEST-<n>       append-only log of version edits (manifest.h)
//   <n>.log            write-ahead log (wal_writer.h)
//   <n>.sst            sorted table (table_builder.h)
//   LOCK               flock()ed by the engine that has the directory open
// <n> is a file number, six or more decimal digits, never reused within a directory.
//
// Every error is a Status naming the file and the failed call.
// Thread-safety: a WritableFile is used by one thread at a time; the functions are reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::lsm {

namespace fs = std::filesystem;

enum class FileKind { kLog, kTable, kManifest, kCurrent, kLock, kTemp, kUnknown };

fs::path log_file_path(const fs::path& dir, uint64_t number);
fs::path table_file_path(const fs::path& dir, uint64_t number);
fs::path manifest_file_path(const fs::path& dir, uint64_t number);
// Kind and number of a file name in the data directory.
FileKind parse_file_name(const std::string& name, uint64_t* number);

Status errno_status(const std::string& context, int error);
// Whether `status` is the system's refusal for a full disk or quota (ENOSPC, EDQUOT).
bool is_no_space(const Status& status);

// An append-only file. Appends go straight to the kernel (one write() per append), so data that
// append() accepted survives a crash of the process, and sync() makes it survive a crash of the
// machine.
//
// With zero_fill_chunk_bytes > 0 the file is kept filled with zeros ahead of the appends, one
// chunk at a time, and appends overwrite those zeros in place. A sync then flushes data only: the
// file's size and block allocation changed when the chunk was written, not with each append, so
// fdatasync needs no journal commit for them (that commit roughly halves the sync rate of a
// growing file). Readers must treat a zero tail as unwritten (wal_reader.h does). close()
// trims the file to what was appended.
// For tests (TestHooks::before_file_grows): called before a file grows; an error is the
// append's, with nothing written.
using GrowHook = std::function<Status(const fs::path& path)>;

class WritableFile {
 public:
  static Result<std::unique_ptr<WritableFile>> create(const fs::path& path,
                                                      uint64_t zero_fill_chunk_bytes = 0,
                                                      GrowHook grow = {});
  ~WritableFile();
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;

  Status append(ByteView data);
  // Whether the last append() that failed wrote none of its bytes (it failed while growing the
  // zero-filled region ahead of them): the file ends where it did before.
  bool failed_cleanly() const { return failed_cleanly_; }
  // fdatasync(): the data and the size, not the other metadata.
  Status sync();
  Status close();
  uint64_t size() const { return size_; }
  const fs::path& path() const { return path_; }

 private:
  WritableFile(fs::path path, int fd, uint64_t zero_fill_chunk_bytes, GrowHook grow)
      : path_(std::move(path)), fd_(fd), zero_fill_chunk_bytes_(zero_fill_chunk_bytes),
        grow_(std::move(grow)) {}
  Status write_at(uint64_t offset, const char* p, size_t n);
  Status extend_zero_fill();

  fs::path path_;
  int fd_;
  uint64_t size_ = 0;
  const uint64_t zero_fill_chunk_bytes_;
  uint64_t zero_filled_end_ = 0;
  const GrowHook grow_;
  bool failed_cleanly_ = false;
};

// A file opened for positional reads (SSTables). Thread-safe: pread only.
class RandomAccessFile {
 public:
  static Result<std::unique_ptr<RandomAccessFile>> open(const fs::path& path);
  ~RandomAccessFile();
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;

  // Reads exactly n bytes at offset into buf; Corruption when the file is shorter.
  Status read(uint64_t offset, size_t n, char* buf) const;
  uint64_t size() const { return size_; }
  const fs::path& path() const { return path_; }

 private:
  RandomAccessFile(fs::path path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  fs::path path_;
  int fd_;
  uint64_t size_;
};

Result<Bytes> read_whole_file(const fs::path& path);
// Writes `data` to path.tmp, fsyncs it, renames it over `path`, fsyncs the directory.
Status write_file_atomically(const fs::path& path, ByteView data);
Status sync_dir(const fs::path& dir);
// Cuts `path` to `size` bytes and fdatasyncs it.
Status truncate_and_sync(const fs::path& path, uint64_t size);

// Holds an exclusive flock() on <dir>/LOCK until destroyed; Busy if another holder has it.
class DirLock {
 public:
  static Result<std::unique_ptr<DirLock>> acquire(const fs::path& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace tessera::lsm
