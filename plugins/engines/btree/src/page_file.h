// PageFile: the data file as an array of pages, and the few POSIX calls made on it.
//
// Reads and writes are positional (pread/pwrite), so any number of threads may read while one
// writes other pages. The file is flock()ed while open: a second engine on the same directory
// gets Busy. Every error is a Status naming the file and the failed call.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "page.h"
#include "tessera/status.h"

namespace tessera::btree {

class PageFile {
 public:
  // Opens (creating if missing) and locks `path`. Busy when another holder has the lock.
  static Result<std::unique_ptr<PageFile>> open(const std::filesystem::path& path,
                                                size_t page_bytes);
  ~PageFile();
  PageFile(const PageFile&) = delete;
  PageFile& operator=(const PageFile&) = delete;

  // Reads page `id` into buf (page_bytes) without checking it. Corruption when the file ends
  // before the page does (a page that was never written).
  Status read_raw(PageId id, char* buf) const;
  // read_raw + verify_page.
  Status read(PageId id, char* buf) const;
  // Writes buf (page_bytes, already sealed) as page `id`.
  Status write(PageId id, const char* buf);
  // fdatasync(): every write that returned is on stable storage.
  Status sync();

  // Reads `n` bytes at byte `offset`, for the meta probe before the page size is known.
  // Returns fewer bytes at the end of the file.
  Result<size_t> read_at(uint64_t offset, char* buf, size_t n) const;

  Result<uint64_t> size_bytes() const;
  size_t page_bytes() const { return page_bytes_; }
  void set_page_bytes(size_t page_bytes) { page_bytes_ = page_bytes; }
  const std::string& name() const { return name_; }

 private:
  PageFile(std::string name, int fd, size_t page_bytes)
      : name_(std::move(name)), fd_(fd), page_bytes_(page_bytes) {}

  std::string name_;
  int fd_;
  size_t page_bytes_;
};

Status errno_status(const std::string& context, int error);
// fsync() of a directory, so that a rename or a new file in it is durable.
Status sync_dir(const std::filesystem::path& dir);

}  // namespace tessera::btree
