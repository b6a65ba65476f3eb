// ReplicaAccess: the operations of the leader profile served by this node's own replicas.
//
// A write is proposed to the range's group here (the group answers NotLeader, with the leader's
// node id, on a follower); its version is the conflict plugin's new_version, which the range's
// state machine ratchets above the last one it applied. A linearizable read waits for the
// group's read barrier (ReadIndex: this node still leads, and has applied every write committed
// before the read began) and then reads the state machine; a stale read reads it at once. A
// table change is proposed to the metadata group. Nothing here retries: LeaderRouter does.
//
// Thread-safety: event loop thread only; completions come back to it through cross-thread
// fulfillers. Ownership: borrows everything; all outlive it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <kj/async.h>

#include "local_replicas.h"
#include "loop_completion.h"
#include "range_commands.h"
#include "tessera/conflict.h"
#include "tessera/replication.h"

namespace tessera::leader {

class ReplicaAccess {
 public:
  ReplicaAccess(LocalReplicas* replicas, ReplicationGroups* groups, Conflict* conflict,
                size_t replicas_per_range)
      : replicas_(replicas),
        groups_(groups),
        conflict_(conflict),
        replicas_per_range_(replicas_per_range) {}

  // StaleRoute when this node hosts no replica of `where`'s range.
  kj::Promise<Result<Bytes>> write(const Location& where, std::vector<RangeWriteOp> writes);
  kj::Promise<Result<std::optional<StoredValue>>> get(const Location& where, Bytes key,
                                                      bool stale);
  kj::Promise<Result<ScanPage>> scan(const Location& where, Bytes start, Bytes end,
                                     uint32_t limit, bool stale);
  // Proposed to the metadata group; OK once committed and applied here (the router then waits
  // for this node's range map to show it).
  // Its first ranges begin at the empty key and at each of `split_keys`.
  kj::Promise<Status> create_table(std::string name, std::vector<Bytes> split_keys);
  kj::Promise<Status> drop_table(std::string name);
  // The tables of the metadata as this node has applied it.
  Result<std::vector<std::string>> list_tables() const;

 private:
  kj::Promise<Result<LogIndex>> read_point(const std::string& group, bool stale);
  kj::Promise<Status> propose_metadata(Bytes command);

  LocalReplicas* const replicas_;
  ReplicationGroups* const groups_;
  Conflict* const conflict_;
  const size_t replicas_per_range_;
};

}  // namespace tessera::leader
