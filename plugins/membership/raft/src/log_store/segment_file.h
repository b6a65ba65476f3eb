// The files of the shared raft log's directory (format.h) and the few POSIX calls made on them.
//
// A SegmentFile is one open segment: positional reads for every segment, appends for the one
// being written. Appends go straight to the kernel (one pwrite per append, retried only when
// the kernel takes part of it), so an appended record survives a crash of the process and
// sync() makes it survive a crash of the machine.
//
// With zero_fill_chunk_bytes > 0 the file is kept filled with zeros ahead of the appends, one
// chunk at a time, and appends overwrite those zeros in place: a later fdatasync then flushes
// data only, because the file's size and block allocation changed when the chunk was written
// (a growing file needs a journal commit per fdatasync, roughly halving the sync rate). Zeros
// fail the record checks, so recovery cuts them off as a torn tail (format.h); trim() cuts them
// before a segment stops being the last.
//
// Every error is a Status naming the file and the failed call.
// Thread-safety: one thread at a time. Ownership: owns its descriptor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::raftlog {

namespace fs = std::filesystem;

fs::path segment_path(const fs::path& dir, uint64_t number);
// True for "<twenty digits>.rlog"; *number is its number.
bool parse_segment_name(const std::string& name, uint64_t* number);

Status errno_status(const std::string& context, int error);
Status sync_dir(const fs::path& dir);
Status remove_file(const fs::path& path);

class SegmentFile {
 public:
  // A new, empty file (it must not exist).
  static Result<std::unique_ptr<SegmentFile>> create(const fs::path& path, uint64_t number,
                                                     uint64_t zero_fill_chunk_bytes);
  // An existing file; `writable` for the last segment (it may be cut and appended to).
  static Result<std::unique_ptr<SegmentFile>> open(const fs::path& path, uint64_t number,
                                                   bool writable);
  ~SegmentFile();
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  // Appends at size(). REQUIRES: writable.
  Status append(ByteView data);
  // fdatasync: the appended data and the size.
  Status sync();
  // Cuts the file at `size` (appends continue there) and syncs it. REQUIRES: writable.
  Status truncate(uint64_t size);
  // Cuts zero fill off the end and fsyncs: the file is complete as it stands.
  Status trim();
  // Reads exactly n bytes at offset; Corruption when the file is shorter.
  Status read(uint64_t offset, size_t n, char* out) const;

  uint64_t number() const { return number_; }
  // Bytes appended (or, for an opened file, its size until truncate() sets it).
  uint64_t size() const { return size_; }
  // The file's length on disk when opened.
  uint64_t file_bytes() const { return file_bytes_; }
  const fs::path& path() const { return path_; }
  // pwrite calls made by append (zero fill excluded) and by zero fill.
  uint64_t write_syscalls() const { return write_syscalls_; }
  uint64_t fill_syscalls() const { return fill_syscalls_; }
  // Enables zero fill from size() on (for the last segment reopened for appends).
  void set_zero_fill(uint64_t chunk_bytes) {
    zero_fill_chunk_bytes_ = chunk_bytes;
    zero_filled_end_ = size_;
  }

 private:
  SegmentFile(fs::path path, int fd, uint64_t number, uint64_t file_bytes)
      : path_(std::move(path)),
        fd_(fd),
        number_(number),
        size_(file_bytes),
        file_bytes_(file_bytes),
        zero_filled_end_(file_bytes) {}
  Status write_at(uint64_t offset, const char* p, size_t n, uint64_t* syscalls);
  Status extend_zero_fill(uint64_t end);

  fs::path path_;
  int fd_;
  const uint64_t number_;
  uint64_t size_;
  uint64_t file_bytes_;
  uint64_t zero_fill_chunk_bytes_ = 0;
  uint64_t zero_filled_end_;
  uint64_t write_syscalls_ = 0;
  uint64_t fill_syscalls_ = 0;
};

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

}  // namespace tessera::raftlog
