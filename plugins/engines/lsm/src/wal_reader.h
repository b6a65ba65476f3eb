// WalReader: reads back the records of a log file (wal_format.h).
//
// How the end of a log is judged:
//  - a record cut short by the end of the file (a header, or a payload whose checked length runs
//    past the end) is a torn tail: the write a crash interrupted. Reading stops there; it is not
//    an error, and summary.dropped_bytes says how much was left behind.
//  - under TailPolicy::kTolerateTornTail, a record that fails a check (header or payload) is
//    also a torn tail when nothing but zero bytes follows it: the WAL is zero-filled ahead of its
//    appends (file_util.h), so an interrupted append, or the unwritten rest of the file, looks
//    exactly like that.
//  - any other failed check is Corruption naming the file and the offset: good-looking data
//    after a bad record means the bad record was once written whole.
// The WAL uses kTolerateTornTail; the manifest uses kStrict (a manifest record is synced before
// anything depends on it, so a bad one is always corruption).
// Thread-safety: stateless functions.
#pragma once

#include <functional>

#include "file_util.h"

namespace tessera::lsm {

enum class TailPolicy { kStrict, kTolerateTornTail };

struct WalReadSummary {
  uint64_t records = 0;
  uint64_t valid_bytes = 0;    // bytes up to the end of the last good record
  uint64_t dropped_bytes = 0;  // torn-tail bytes after it
};

// Calls on_record(payload) for each good record in order; stops at the first non-OK status it
// returns and passes it on (with the file named).
Result<WalReadSummary> read_log_file(const fs::path& path, TailPolicy policy,
                                     const std::function<Status(ByteView payload)>& on_record);

// The same over bytes already in memory; `name` is used in messages.
Result<WalReadSummary> read_log_bytes(ByteView data, const std::string& name, TailPolicy policy,
                                      const std::function<Status(ByteView payload)>& on_record);

}  // namespace tessera::lsm
