#include "page_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tessera::btree {

Status errno_status(const std::string& context, int error) {
  return Status::io_error(context + ": " + std::strerror(error));
}

Status sync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status(dir.string() + ": open", errno);
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) return errno_status(dir.string() + ": fsync", error);
  return Status::ok();
}

Result<std::unique_ptr<PageFile>> PageFile::open(const std::filesystem::path& path,
                                                 size_t page_bytes) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(path.string() + ": open", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Status::busy(path.string() + ": in use by another engine (flock)");
    }
    return errno_status(path.string() + ": flock", error);
  }
  return std::unique_ptr<PageFile>(new PageFile(path.string(), fd, page_bytes));
}

PageFile::~PageFile() { ::close(fd_); }

Status PageFile::read_raw(PageId id, char* buf) const {
  uint64_t offset = uint64_t{id} * page_bytes_;
  size_t done = 0;
  while (done < page_bytes_) {
    ssize_t n = ::pread(fd_, buf + done, page_bytes_ - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(name_ + ": pread of page " + std::to_string(id), errno);
    }
    if (n == 0) return page_corruption(name_, id, "beyond the end of the file");
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status PageFile::read(PageId id, char* buf) const {
  TESSERA_RETURN_IF_ERROR(read_raw(id, buf));
  return verify_page(buf, page_bytes_, id, name_);
}

Status PageFile::write(PageId id, const char* buf) {
  uint64_t offset = uint64_t{id} * page_bytes_;
  size_t done = 0;
  while (done < page_bytes_) {
    ssize_t n = ::pwrite(fd_, buf + done, page_bytes_ - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(name_ + ": pwrite of page " + std::to_string(id), errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status PageFile::sync() {
  if (::fdatasync(fd_) != 0) return errno_status(name_ + ": fdatasync", errno);
  return Status::ok();
}

Result<size_t> PageFile::read_at(uint64_t offset, char* buf, size_t n) const {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status(name_ + ": pread", errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

Result<uint64_t> PageFile::size_bytes() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return errno_status(name_ + ": fstat", errno);
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace tessera::btree
