#include "log_store/segment_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tessera::raftlog {

fs::path segment_path(const fs::path& dir, uint64_t number) {
  char name[40];
  std::snprintf(name, sizeof(name), "%020llu.rlog", static_cast<unsigned long long>(number));
  return dir / name;
}

bool parse_segment_name(const std::string& name, uint64_t* number) {
  static constexpr size_t kDigits = 20;
  if (name.size() != kDigits + 5 || !name.ends_with(".rlog")) return false;
  uint64_t n = 0;
  for (size_t i = 0; i < kDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return false;
    n = n * 10 + digit;
  }
  *number = n;
  return true;
}

Status errno_status(const std::string& context, int error) {
  return Status::io_error(context + ": " + std::strerror(error));
}

Status sync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status(dir.string() + ": open directory", errno);
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) return errno_status(dir.string() + ": fsync directory", error);
  return Status::ok();
}

Status remove_file(const fs::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return errno_status(path.string() + ": unlink", errno);
  }
  return Status::ok();
}

Result<std::unique_ptr<SegmentFile>> SegmentFile::create(const fs::path& path, uint64_t number,
                                                         uint64_t zero_fill_chunk_bytes) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(path.string() + ": create", errno);
  auto file = std::unique_ptr<SegmentFile>(new SegmentFile(path, fd, number, 0));
  file->zero_fill_chunk_bytes_ = zero_fill_chunk_bytes;
  return file;
}

Result<std::unique_ptr<SegmentFile>> SegmentFile::open(const fs::path& path, uint64_t number,
                                                       bool writable) {
  int fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return errno_status(path.string() + ": open", errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    return errno_status(path.string() + ": fstat", error);
  }
  return std::unique_ptr<SegmentFile>(
      new SegmentFile(path, fd, number, static_cast<uint64_t>(st.st_size)));
}

SegmentFile::~SegmentFile() { ::close(fd_); }

Status SegmentFile::write_at(uint64_t offset, const char* p, size_t left, uint64_t* syscalls) {
  while (left > 0) {
    ++*syscalls;
    ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(path_.string() + ": write", errno);
    }
    p += n;
    offset += static_cast<uint64_t>(n);
    left -= static_cast<size_t>(n);
  }
  return Status::ok();
}

Status SegmentFile::extend_zero_fill(uint64_t end) {
  static constexpr char kZeros[64 << 10] = {};
  // Whole chunks, so that the file grows (and needs a journal commit) once per chunk.
  uint64_t target = zero_filled_end_;
  while (target < end) target += zero_fill_chunk_bytes_;
  for (uint64_t offset = zero_filled_end_; offset < target; offset += sizeof(kZeros)) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(kZeros), target - offset));
    TESSERA_RETURN_IF_ERROR(write_at(offset, kZeros, n, &fill_syscalls_));
  }
  zero_filled_end_ = target;
  return Status::ok();
}

Status SegmentFile::append(ByteView data) {
  if (zero_fill_chunk_bytes_ > 0 && size_ + data.size() > zero_filled_end_) {
    TESSERA_RETURN_IF_ERROR(extend_zero_fill(size_ + data.size()));
  }
  TESSERA_RETURN_IF_ERROR(write_at(size_, data.data(), data.size(), &write_syscalls_));
  size_ += data.size();
  file_bytes_ = std::max(file_bytes_, size_);
  return Status::ok();
}

Status SegmentFile::sync() {
  if (::fdatasync(fd_) != 0) return errno_status(path_.string() + ": fdatasync", errno);
  return Status::ok();
}

Status SegmentFile::truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return errno_status(path_.string() + ": ftruncate", errno);
  }
  if (::fsync(fd_) != 0) return errno_status(path_.string() + ": fsync", errno);
  size_ = size;
  file_bytes_ = size;
  zero_filled_end_ = size;
  return Status::ok();
}

Status SegmentFile::trim() {
  if (file_bytes_ > size_ || zero_filled_end_ > size_) return truncate(size_);
  if (::fsync(fd_) != 0) return errno_status(path_.string() + ": fsync", errno);
  return Status::ok();
}

Status SegmentFile::read(uint64_t offset, size_t n, char* out) const {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status(path_.string() + ": pread", errno);
    }
    if (r == 0) {
      return Status::corruption(path_.string() + ": read past the end of the file at offset " +
                                std::to_string(offset));
    }
    done += static_cast<size_t>(r);
  }
  return Status::ok();
}

Result<std::unique_ptr<DirLock>> DirLock::acquire(const fs::path& dir) {
  fs::path path = dir / "LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(path.string() + ": open", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Status::busy(path.string() + ": the raft log directory is in use");
    }
    return errno_status(path.string() + ": flock", error);
  }
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() { ::close(fd_); }

}  // namespace tessera::raftlog
