// The manifest: an append-only log (wal_format.h framing, read with TailPolicy::kStrict) of
// version edits. Replaying every edit in order gives the live file set.
//
//   manifest := record(edit)*                  the first edit of a manifest is a full snapshot
//   edit     := field*
//   field    := 1 varint64(log_number)         WAL files below this number are not needed
//             | 2 varint64(next_file_number)
//             | 3 varint64(last_sequence)
//             | 4 varint32(level) varint64(file_number)                         file removed
//             | 5 varint32(level) varint64(file_number) varint64(file_bytes)
//                 length_prefixed(smallest) length_prefixed(largest)             file added
// Field tags are varint32. smallest/largest are internal keys.
//
// Which manifest is live is named by the file CURRENT ("MANIFEST-000007\n"), replaced with
// write-new + fsync + rename, so that a crash leaves either the old or the new manifest live.
// Thread-safety: value types.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "file_util.h"
#include "table_reader.h"

namespace tessera::lsm {

inline constexpr int kNumLevels = 7;

// One SSTable in the live set. Shared by every Version that lists it.
struct FileMeta {
  uint64_t number = 0;
  uint64_t file_bytes = 0;
  Bytes smallest;  // internal keys
  Bytes largest;
  fs::path path;
  std::shared_ptr<const TableReader> table;  // open while the file is live
  // Set when an edit removed the file; the last Version to let go of it deletes it.
  std::atomic<bool> obsolete{false};

  ~FileMeta();
};

struct VersionEdit {
  std::optional<uint64_t> log_number;
  std::optional<uint64_t> next_file_number;
  std::optional<uint64_t> last_sequence;
  std::vector<std::pair<int, uint64_t>> deleted_files;
  std::vector<std::pair<int, std::shared_ptr<FileMeta>>> added_files;

  void encode(Bytes* out) const;
  // Corruption (message without the file name; the caller adds it) on bad bytes.
  static Result<VersionEdit> decode(ByteView in);
};

}  // namespace tessera::lsm
