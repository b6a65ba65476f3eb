// WalReader: reads back the records of a log file (wal_format.h).
//
// How the end of a log is judged depends on what the file is:
//  - kStrict (the manifest, whose records are synced before anything depends on them): a record
//    cut short by the end of the file (a header, or a payload whose checked length runs past the
//    end) is the append a crash interrupted; reading stops there. Any failed check is Corruption.
//  - kTolerateTornTail (the newest WAL, the one being appended when the process died): as kStrict,
//    and a record that fails a check (header or payload) is also a torn tail when nothing but zero
//    bytes follows it: the WAL is zero-filled ahead of its appends (file_util.h), so an
//    interrupted append, or the unwritten rest of the file, looks exactly like that.
//  - kCompleteRecords (a WAL that a newer WAL followed: it was complete, and synced, before the
//    switch): only complete, good records, then either the end of the file or zeros only (the
//    zero-filled space a close did not get to trim). A short record or a failed check is
//    Corruption.
// In every policy, a failed check with good-looking data after it is Corruption naming the file
// and the offset: the bad record was once written whole. summary.dropped_bytes says how much was
// left behind after the last good record.
//
// The file is read in chunks of kLogReadChunkBytes (a record larger than that is read into a
// buffer of its own size), so that reading a log needs memory for one chunk or one record, not
// the whole file.
// Thread-safety: stateless functions.
#pragma once

#include <functional>

#include "file_util.h"

namespace tessera::lsm {

enum class TailPolicy { kStrict, kTolerateTornTail, kCompleteRecords };

inline constexpr size_t kLogReadChunkBytes = 1 << 20;

struct WalReadSummary {
  uint64_t records = 0;
  uint64_t valid_bytes = 0;     // bytes up to the end of the last good record
  uint64_t dropped_bytes = 0;   // torn-tail (or zero) bytes after it
  size_t buffer_bytes_max = 0;  // the largest read buffer the reader held
};

// Calls on_record(payload) for each good record in order; stops at the first non-OK status it
// returns and passes it on (with the file named). The payload is valid for the call only.
Result<WalReadSummary> read_log_file(const fs::path& path, TailPolicy policy,
                                     const std::function<Status(ByteView payload)>& on_record);

// The same over bytes already in memory; `name` is used in messages.
Result<WalReadSummary> read_log_bytes(ByteView data, const std::string& name, TailPolicy policy,
                                      const std::function<Status(ByteView payload)>& on_record);

}  // namespace tessera::lsm
