#include "plugin/snapshot_staging.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "tessera/coding.h"
#include "tessera/crc32c.h"

namespace tessera::raft_plugin {
namespace fs = std::filesystem;

namespace {

constexpr size_t kFrameHeaderBytes = 8;

Status io_error(const fs::path& path, const char* call, int error) {
  return Status::io_error("raft snapshot staging: " + std::string(call) + " " + path.string() +
                          ": " + std::strerror(error));
}

Status write_all(int fd, const fs::path& path, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error(path, "write", errno);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::ok();
}

Status sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(dir, "open", errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  return rc == 0 ? Status::ok() : io_error(dir, "fsync", error);
}

// Reads a staged file frame by frame; every frame's checksum is checked before it is returned.
class StagedChunks final : public SnapshotChunks {
 public:
  StagedChunks(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  ~StagedChunks() override { ::close(fd_); }

  Result<std::optional<Bytes>> next() override {
    char header[kFrameHeaderBytes];
    TESSERA_ASSIGN_OR_RETURN(size_t got, read_up_to(offset_, header, sizeof header));
    if (got == 0) return std::optional<Bytes>();
    if (got < sizeof header) return corrupt("a frame header cut short");
    ByteView in(header, sizeof header);
    uint32_t length = 0;
    uint32_t crc = 0;
    get_fixed32_be(&in, &length);
    get_fixed32_be(&in, &crc);
    if (length > SnapshotStaging::kChunkBytesMax) return corrupt("a frame over the chunk bound");
    Bytes chunk(length, '\0');
    TESSERA_ASSIGN_OR_RETURN(got, read_up_to(offset_ + kFrameHeaderBytes, chunk.data(), length));
    if (got < length) return corrupt("a frame cut short");
    if (crc32c::value(chunk.data(), chunk.size()) != crc) return corrupt("a checksum mismatch");
    offset_ += kFrameHeaderBytes + length;
    return std::optional<Bytes>(std::move(chunk));
  }

 private:
  Result<size_t> read_up_to(uint64_t offset, char* buf, size_t n) {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return io_error(path_, "pread", errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }
  Status corrupt(const char* what) const {
    return Status::corruption("raft snapshot staging: " + path_.string() + " at offset " +
                              std::to_string(offset_) + ": " + what);
  }

  const int fd_;
  const fs::path path_;
  uint64_t offset_ = 0;
};

bool parse_name(const fs::path& path, uint64_t* group, uint64_t* index) {
  const std::string stem = path.stem().string();
  const size_t dash = stem.find('-');
  if (dash == std::string::npos) return false;
  try {
    size_t used = 0;
    *group = std::stoull(stem.substr(0, dash), &used);
    if (used != dash) return false;
    *index = std::stoull(stem.substr(dash + 1), &used);
    return used == stem.size() - dash - 1;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

Result<std::unique_ptr<SnapshotStaging>> SnapshotStaging::open(fs::path dir) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".part") fs::remove(e.path(), ec);
  }
  if (ec) return io_error(dir, "list", ec.value());
  return std::unique_ptr<SnapshotStaging>(new SnapshotStaging(std::move(dir)));
}

fs::path SnapshotStaging::path_of(uint64_t group, uint64_t index, const char* suffix) const {
  return dir_ / (std::to_string(group) + "-" + std::to_string(index) + suffix);
}

Result<std::unique_ptr<SnapshotStaging::Writer>> SnapshotStaging::begin(uint64_t group,
                                                                        uint64_t index) {
  fs::path part = path_of(group, index, ".part");
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(part, "open", errno);
  return std::unique_ptr<Writer>(new Writer(fd, std::move(part), path_of(group, index, ".snap")));
}

SnapshotStaging::Writer::Writer(int fd, fs::path part, fs::path final_path)
    : fd_(fd), part_(std::move(part)), final_(std::move(final_path)) {}

SnapshotStaging::Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) {
    std::error_code ec;
    fs::remove(part_, ec);
  }
}

Status SnapshotStaging::Writer::append(ByteView chunk) {
  if (chunk.size() > kChunkBytesMax) {
    return Status::invalid_argument("raft snapshot staging: a chunk of " +
                                    std::to_string(chunk.size()) + " bytes, at most " +
                                    std::to_string(kChunkBytesMax));
  }
  Bytes header;
  put_fixed32_be(&header, static_cast<uint32_t>(chunk.size()));
  put_fixed32_be(&header, crc32c::value(chunk.data(), chunk.size()));
  TESSERA_RETURN_IF_ERROR(write_all(fd_, part_, header.data(), header.size()));
  return write_all(fd_, part_, chunk.data(), chunk.size());
}

Status SnapshotStaging::Writer::finish() {
  if (::fdatasync(fd_) != 0) return io_error(part_, "fdatasync", errno);
  ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  fs::rename(part_, final_, ec);
  if (ec) return io_error(final_, "rename", ec.value());
  finished_ = true;
  return sync_dir(final_.parent_path());
}

Result<std::unique_ptr<SnapshotChunks>> SnapshotStaging::read(uint64_t group,
                                                              uint64_t index) const {
  fs::path path = path_of(group, index, ".snap");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::not_found("raft snapshot staging: no " + path.string());
    return io_error(path, "open", errno);
  }
  return std::unique_ptr<SnapshotChunks>(new StagedChunks(fd, std::move(path)));
}

std::optional<uint64_t> SnapshotStaging::staged_index(uint64_t group) const {
  std::optional<uint64_t> newest;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_, ec)) {
    uint64_t g = 0;
    uint64_t index = 0;
    if (e.path().extension() != ".snap" || !parse_name(e.path(), &g, &index) || g != group) {
      continue;
    }
    if (!newest || index > *newest) newest = index;
  }
  return newest;
}

void SnapshotStaging::remove_up_to(uint64_t group, uint64_t index) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_, ec)) {
    uint64_t g = 0;
    uint64_t i = 0;
    if (e.path().extension() == ".snap" && parse_name(e.path(), &g, &i) && g == group &&
        i <= index) {
      fs::remove(e.path(), ec);
    }
  }
}

}  // namespace tessera::raft_plugin
