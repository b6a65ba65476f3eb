// Codec: raft messages of many groups to and from their wire form (raft_peer.capnp).
//
// Purpose: the one place that knows both raft::Message and rpc::GroupMessage. encode() writes
// every field of a message (a kSnapshot's metadata, never image data: the image streams through
// SnapshotSink). decode() reads a message from a peer and checks it against everything the core
// takes for granted, so that bytes off the wire can never reach an assertion: a malformed
// message is an InvalidArgument naming the field, and the caller drops and counts it.
//
// What decode() checks: a known message and entry type; replica ids not 0; entries only on an
// append, at most `entries_max`, at indexes log_index + 1, log_index + 2, ... with no overflow,
// with terms non-decreasing from log_term up to the message's term; configuration entries that
// decode (raft/conf_change.h); on a kSnapshot, voters and learners ascending, not 0, disjoint,
// at most `members_max` in all. Fields a type does not use are read as they are (the core
// ignores them).
//
// Thread-safety: pure functions. Ownership: decode copies everything out of the reader.
#pragma once

#include <cstddef>

#include "driver/types.h"
#include "tessera/status.h"
#include "transport/raft_peer.capnp.h"

namespace tessera::raft::transport {

using driver::GroupMessage;
// A node, as the framework names it. Inside a message, replicas are raft::NodeId (uint64).
using NodeId = ::tessera::NodeId;

struct DecodeLimits {
  size_t entries_max = size_t{1} << 16;  // entries in one message
  size_t members_max = 1024;             // voters + learners in a snapshot's configuration
};

// Writes `message` into `out` (a fresh builder).
void encode(const GroupMessage& message, rpc::GroupMessage::Builder out);

// The message `in` holds, or InvalidArgument saying which field is malformed.
Result<GroupMessage> decode(rpc::GroupMessage::Reader in, const DecodeLimits& limits);

// An upper estimate of a message's encoded size in bytes (capnp words of its structs and
// lists plus payloads, rounded up), for queue and batch bounds and for sizing a request's first
// segment so that it needs no second one.
size_t encoded_bytes(const GroupMessage& message);

}  // namespace tessera::raft::transport
