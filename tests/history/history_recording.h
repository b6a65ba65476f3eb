// Recording a history with `tessera-bench client --history` against running nodes while a fault
// strikes them, and checking it key by key (history_check.h): the linearizability tests of
// processes on loopback (the raft host's, the leader profile's) share it.
//
// Every wait is bounded: the tool runs at most `seconds` plus a margin, then it is killed.
//
// Thread-safety: record_history() runs the tool on a thread of its own and calls `fault` on
// the calling thread, so a fault may kill and restart the caller's TestCluster nodes.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "history_check.h"
#include "tessera/status.h"

namespace tessera::history {

struct RecordingOptions {
  std::filesystem::path bench_binary;  // REQUIRES: the tessera-bench executable
  std::vector<std::string> addresses;  // REQUIRES: not empty; connections are spread over them
  std::filesystem::path dir;           // REQUIRES: exists; gets history.jsonl
  std::string table = "t";             // created by the tool when missing
  int connections = 6;
  int pipeline = 2;
  int keys = 10;  // few keys, so that reads race writes of the same key
  double read_ratio = 0.5;
  int seconds = 6;
  int timeout_ms = 1500;  // each request's deadline
  std::chrono::milliseconds fault_after{2000};
};

struct RecordedHistory {
  CheckReport report;
  uint64_t acknowledged = 0;  // operations answered OK
  uint64_t unknown = 0;       // operations whose outcome is not known (ok null)
  // A put was acknowledged in the last third of the history (lines are written as operations
  // return): service resumed after the fault, so the check covered the failover.
  bool put_acknowledged_late = false;
  std::string tool_output;  // the tool's stdout and stderr, for failure messages
};

// Runs the tool, calls `fault()` `fault_after` into the run, waits for the tool, and checks the
// history. The tool's exit status is not looked at: requests fail during a fault by design.
// Internal (with the tool's output) when the tool left no history or did not end in time; the
// checker's InvalidArgument when a line does not parse.
Result<RecordedHistory> record_history(const RecordingOptions& options,
                                       const std::function<void()>& fault);

}  // namespace tessera::history
