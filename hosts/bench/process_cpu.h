// CPU time of this process and of other processes, for CPU per request.
//
// The bench reads both at the start and the end of its measured window: its own CPU through
// getrusage (every thread of the process) and a node's through /proc/<pid>/stat (utime +
// stime, in clock ticks of 10 ms on Linux, so a window of seconds resolves it to well under 1%).
//
// Thread-safety: the functions keep no state; call them from any thread.
#pragma once

#include <sys/types.h>

#include "tessera/status.h"

namespace tessera::bench {

struct CpuSeconds {
  double user = 0;
  double system = 0;
  double total() const { return user + system; }
};

// This process's user and system CPU time so far, all threads included.
CpuSeconds self_cpu();

// The user and system CPU time process `pid` has used so far. NotFound when there is no such
// process; IoError when its stat file cannot be read or parsed.
Result<CpuSeconds> process_cpu(pid_t pid);

}  // namespace tessera::bench
