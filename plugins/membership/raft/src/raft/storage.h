// LogStorage: the persisted log of one Raft group, as the core reads it back.
//
// Purpose: the core keeps the terms of every entry in memory (as runs), the data of entries
// not yet persisted, and a bounded cache of persisted ones (Options::entry_cache_bytes_max).
// Entries it needs beyond that (an append to a lagging follower, committed entries to hand
// out after a restart or when the host applies far behind) it reads through this interface.
// The host implements it over whatever holds what it persisted from each Ready.
// Thread-safety: the core calls it from its own thread only; an implementation shared by many
// groups (one log per node) is the host's to synchronize. Ownership: borrowed by the core
// (DurableState::storage), must outlive it.
#pragma once

#include <cstddef>
#include <vector>

#include "raft/types.h"
#include "tessera/status.h"

namespace tessera::raft {

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // Entries [lo, hi) as the host persisted them: a non-empty prefix of that range, in order,
  // whose data bytes sum to at most `bytes_max`, except that the first entry always comes
  // whole (so a large entry never stalls replication).
  // The core asks only for entries it knows persisted and not compacted away: REQUIRES
  // (of the core): snapshot index < lo < hi <= last persisted index + 1.
  // Errors: kIOError (the disk refused the read), kCorruption (a record failed its
  // checksum), or any other non-OK Status: the core counts it, skips what needed the
  // entries (one append, or handing out committed entries) and retries later; it never
  // crashes on a read error. Returning entries other than those persisted (a wrong index or
  // term) is a host bug and is asserted.
  virtual Result<std::vector<Entry>> entries(Index lo, Index hi, size_t bytes_max) = 0;
};

}  // namespace tessera::raft
