// HistoryLog: the operations of a load run as a history a linearizability checker reads.
//
// `tessera-bench client --history FILE` writes one JSON object per line per operation:
//
//   {"client":3,"op":"put","key":"k00000012","value":"c3.17","ok":true,"call":120,"return":950}
//   {"client":5,"op":"get","key":"k00000012","result":"c3.17","ok":true,"call":130,"return":990}
//   {"client":1,"op":"put","key":"k00000004","value":"c1.9","ok":null,"call":200}
//
// `client` is one request slot (connection x pipeline position): a slot has at most one
// operation in flight, so each client's operations are sequential, as the checker requires.
// `call` and `return` are nanoseconds of one monotonic clock shared by every thread, from the
// start of the run. A get's `result` is the value read, or null for not found. `ok` is true
// for an answered success, false for an operation known not to have taken effect (a get that
// failed; a put refused without being applied: InvalidArgument, TooLarge, NoSuchTable,
// NotSupported, NotLeader, StaleRoute, Busy), and null when the outcome is unknown (any other
// failed put, such as Timeout or QuorumUnavailable, a lost connection, a request still in flight
// when the run stopped); an unknown operation has no `return`.
//
// Thread-safety: record() may be called from any thread; lines are written whole.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::bench {

struct HistoryOp {
  uint32_t client = 0;
  bool read = false;  // a get; else a put of `value`
  Bytes key;
  Bytes value;
  int64_t call_ns = 0;
};

// How an operation ended: answered with `code` (and for a get, `result`: nullopt = not found)
// at `return_ns`, or unknown (answered = false).
struct HistoryOutcome {
  bool answered = false;
  StatusCode code = StatusCode::kOk;
  std::optional<Bytes> result;
  int64_t return_ns = 0;
};

// The JSON line for `op` ending as `outcome`, without the newline.
std::string history_line(const HistoryOp& op, const HistoryOutcome& outcome);

class HistoryLog {
 public:
  // Creates (or truncates) `path`. IOError naming it when it cannot.
  static Result<std::unique_ptr<HistoryLog>> open(const std::string& path);
  ~HistoryLog();

  // Nanoseconds since this log was opened, on the monotonic clock every thread shares.
  int64_t now_ns() const;

  void record(const HistoryOp& op, const HistoryOutcome& outcome);

  // Flushes and closes the file; IOError when a write failed. Records after close are dropped.
  Status close();

 private:
  HistoryLog(std::FILE* file, std::string path);

  std::mutex mutex_;
  std::FILE* file_;
  const std::string path_;
  bool write_failed_ = false;
  const int64_t origin_ns_;
};

}  // namespace tessera::bench
