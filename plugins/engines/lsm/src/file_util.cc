#include "file_util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tessera::lsm {
namespace {

fs::path numbered(const fs::path& dir, const char* prefix, uint64_t number, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s%06llu%s", prefix, static_cast<unsigned long long>(number),
                suffix);
  return dir / name;
}

bool parse_number(const std::string& digits, uint64_t* number) {
  if (digits.empty() || digits.size() > 19) return false;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = n;
  return true;
}

}  // namespace

fs::path log_file_path(const fs::path& dir, uint64_t number) {
  return numbered(dir, "", number, ".log");
}
fs::path table_file_path(const fs::path& dir, uint64_t number) {
  return numbered(dir, "", number, ".sst");
}
fs::path manifest_file_path(const fs::path& dir, uint64_t number) {
  return numbered(dir, "MANIFEST-", number, "");
}

FileKind parse_file_name(const std::string& name, uint64_t* number) {
  *number = 0;
  if (name == "CURRENT") return FileKind::kCurrent;
  if (name == "LOCK") return FileKind::kLock;
  if (name.ends_with(".tmp")) return FileKind::kTemp;
  if (name.starts_with("MANIFEST-")) {
    return parse_number(name.substr(9), number) ? FileKind::kManifest : FileKind::kUnknown;
  }
  auto dot = name.find('.');
  if (dot == std::string::npos || !parse_number(name.substr(0, dot), number)) {
    return FileKind::kUnknown;
  }
  std::string suffix = name.substr(dot);
  if (suffix == ".log") return FileKind::kLog;
  if (suffix == ".sst") return FileKind::kTable;
  return FileKind::kUnknown;
}

Status errno_status(const std::string& context, int error) {
  return Status::io_error(context + ": " + std::strerror(error));
}

bool is_no_space(const Status& status) {
  if (status.code() != StatusCode::kIOError) return false;
  const std::string& message = status.message();
  return message.find(std::strerror(ENOSPC)) != std::string::npos ||
         message.find(std::strerror(EDQUOT)) != std::string::npos;
}

Result<std::unique_ptr<WritableFile>> WritableFile::create(const fs::path& path,
                                                           uint64_t zero_fill_chunk_bytes,
                                                           GrowHook grow) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(path.string() + ": open", errno);
  return std::unique_ptr<WritableFile>(
      new WritableFile(path, fd, zero_fill_chunk_bytes, std::move(grow)));
}

WritableFile::~WritableFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status WritableFile::write_at(uint64_t offset, const char* p, size_t left) {
  while (left > 0) {
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

Status WritableFile::extend_zero_fill() {
  static constexpr char kZeros[64 << 10] = {};
  uint64_t end = zero_filled_end_ + zero_fill_chunk_bytes_;
  for (uint64_t offset = zero_filled_end_; offset < end; offset += sizeof(kZeros)) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(kZeros), end - offset));
    TESSERA_RETURN_IF_ERROR(write_at(offset, kZeros, n));
  }
  zero_filled_end_ = end;
  return Status::ok();
}

Status WritableFile::append(ByteView data) {
  failed_cleanly_ = true;
  if (grow_ && (zero_fill_chunk_bytes_ == 0 || size_ + data.size() > zero_filled_end_)) {
    TESSERA_RETURN_IF_ERROR(grow_(path_));
  }
  if (zero_fill_chunk_bytes_ > 0) {
    while (size_ + data.size() > zero_filled_end_) TESSERA_RETURN_IF_ERROR(extend_zero_fill());
  }
  failed_cleanly_ = false;
  TESSERA_RETURN_IF_ERROR(write_at(size_, data.data(), data.size()));
  size_ += data.size();
  return Status::ok();
}

Status WritableFile::sync() {
  if (::fdatasync(fd_) != 0) return errno_status(path_.string() + ": fdatasync", errno);
  return Status::ok();
}

Status WritableFile::close() {
  if (fd_ >= 0 && zero_filled_end_ > size_ && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    return errno_status(path_.string() + ": ftruncate", errno);
  }
  int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) return errno_status(path_.string() + ": close", errno);
  return Status::ok();
}

Result<std::unique_ptr<RandomAccessFile>> RandomAccessFile::open(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::corruption(path.string() + ": file is missing");
    return errno_status(path.string() + ": open", errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    return errno_status(path.string() + ": fstat", error);
  }
  return std::unique_ptr<RandomAccessFile>(
      new RandomAccessFile(path, fd, static_cast<uint64_t>(st.st_size)));
}

RandomAccessFile::~RandomAccessFile() { ::close(fd_); }

Status RandomAccessFile::read(uint64_t offset, size_t n, char* buf) const {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
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

Result<Bytes> read_whole_file(const fs::path& path) {
  TESSERA_ASSIGN_OR_RETURN(auto file, RandomAccessFile::open(path));
  Bytes data(file->size(), '\0');
  TESSERA_RETURN_IF_ERROR(file->read(0, data.size(), data.data()));
  return data;
}

Status truncate_and_sync(const fs::path& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(path.string() + ": open", errno);
  Status status;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    status = errno_status(path.string() + ": ftruncate", errno);
  } else if (::fdatasync(fd) != 0) {
    status = errno_status(path.string() + ": fdatasync", errno);
  }
  ::close(fd);
  return status;
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

Status write_file_atomically(const fs::path& path, ByteView data) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    TESSERA_ASSIGN_OR_RETURN(auto file, WritableFile::create(tmp));
    TESSERA_RETURN_IF_ERROR(file->append(data));
    TESSERA_RETURN_IF_ERROR(file->sync());
    TESSERA_RETURN_IF_ERROR(file->close());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return errno_status(path.string() + ": rename", errno);
  }
  return sync_dir(path.parent_path());
}

Result<std::unique_ptr<DirLock>> DirLock::acquire(const fs::path& dir) {
  fs::path path = dir / "LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(path.string() + ": open", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Status::busy(path.string() + ": the data directory is in use by another engine");
    }
    return errno_status(path.string() + ": flock", error);
  }
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() { ::close(fd_); }

}  // namespace tessera::lsm
