// Request: what one AP client request asks of its quorum coordinator, and the bounds on it.
//
// Purpose: the coordinator is built from the key's preference list (Location.replicas, the
// first `owners` = N of them the home replicas, the rest fallbacks in order), which of those
// nodes the local failure detector believes up, the quorum (W for a write, R for a read) and a
// deadline in ticks. check_request() validates it so that a host can turn a bad configuration
// into a Status before it constructs anything.
// Thread-safety: plain values. Ownership: owns everything in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tessera/cluster.h"
#include "tessera/status.h"

namespace tessera::quorum {

// Nodes one preference list may name. The ring returns every distinct node in ring order, so
// this is the largest cluster one coordinator can serve; the coordinator stops scanning once it
// has N targets, so a long list costs nothing after the first healthy N.
inline constexpr size_t kPreferenceListNodesMax = 1024;
// N: home replicas of one key. Bounds the targets, the replies and the read repairs.
inline constexpr size_t kOwnersMax = 16;
// Versions (siblings and tombstones) one read reply may carry, and one reconciled answer may
// hold. A reply over it is counted as a failed reply, not trusted.
inline constexpr size_t kVersionsMax = 64;
// The longest deadline a request may have.
inline constexpr uint64_t kDeadlineTicksMax = uint64_t{1} << 32;

enum class Operation : uint8_t {
  kWrite,  // put or remove: the host attaches the new version (or tombstone) to each SendWrite
  kRead,   // get
};

struct Request {
  Operation operation = Operation::kWrite;
  std::vector<NodeId> replicas;  // the preference list, in order; distinct
  std::vector<bool> up;          // up[i]: replicas[i] is believed up; same size as replicas
  size_t owners = 0;             // N; REQUIRES 1 <= owners <= replicas.size(), <= kOwnersMax
  size_t required = 0;           // W or R; REQUIRES 1 <= required <= owners
  // A write while nodes join (Location::next_owners): the key's owners once the joins are
  // done, and which of them are believed up; empty when they are today's owners. Distinct,
  // at most kOwnersMax, next_up the same size. Reads leave it empty.
  std::vector<NodeId> next_owners;
  std::vector<bool> next_up;
  uint64_t deadline_ticks = 0;   // ticks until the request gives up; REQUIRES >= 1
};

// OK, or InvalidArgument naming the first rule `request` breaks.
Status check_request(const Request& request);

}  // namespace tessera::quorum
