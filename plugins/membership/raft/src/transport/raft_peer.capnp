# Raft node-to-node API: what the Raft membership plugin of one node sends to its counterpart on
# another (plugins/membership/raft/src/transport/).
#
# A node reaches a peer's `RaftPeer` through the peer's bootstrap `Tessera` capability
# (`Tessera.peer("raft")`, framework/schema/tessera.capnp), on the peer's ordinary RPC port. Not
# authenticated yet, like `Tessera.replica` (issue 12).
#
# Raft tolerates lost, duplicated and reordered messages, so the transport may drop a batch (a
# full queue, a failed connection) and says so only in its counters; the receiver drops, and
# counts, any message that does not decode into a well-formed raft message.
#
# Compatibility: this schema only grows. Ordinals are never reused or renumbered.
@0xfd78fe17a76f58ce;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tessera::raft::rpc");

# raft::MessageType (src/raft/messages.h), one to one. A receiver drops a message of a type it
# does not know (one a later schema added).
enum MessageType {
  preVote @0;        # term = proposed term, logIndex/logTerm = the candidate's last entry
  preVoteResp @1;    # reject
  vote @2;           # like preVote with the real term; force = leadership transfer
  voteResp @3;       # reject
  append @4;         # logIndex/logTerm = the entry before `entries`; commit
  appendResp @5;     # logIndex = last match or rejected index; rejectHint/logTerm on reject
  heartbeat @6;      # commit; context = read-index round
  heartbeatResp @7;  # context echoed
  snapshot @8;       # snapshot = the image's metadata; the image streams through `SnapshotSink`
  timeoutNow @9;     # leadership transfer: campaign at once
}

# raft::EntryType.
enum EntryType {
  normal @0;      # host data (empty: the leader's no-op)
  confChange @1;  # data = an encoded configuration (src/raft/conf_change.h)
}

# raft::Entry.
struct Entry {
  term @0 :UInt64;
  index @1 :UInt64;
  type @2 :EntryType;
  data @3 :Data;
}

# raft::SnapshotMeta: the point of the log an image covers. Never the image itself.
struct SnapshotMeta {
  index @0 :UInt64;            # last index covered
  term @1 :UInt64;             # term of that entry
  voters @2 :List(UInt64);     # configuration at `index`: ascending, no zero, disjoint
  learners @3 :List(UInt64);
}

# One raft::Message of one replication group. Fields a type does not use stay at their
# defaults. `from` and `to` are replica ids within the group (never 0).
struct GroupMessage {
  group @0 :UInt64;
  type @1 :MessageType;
  from @2 :UInt64;
  to @3 :UInt64;
  term @4 :UInt64;
  logIndex @5 :UInt64;
  logTerm @6 :UInt64;
  commit @7 :UInt64;
  entries @8 :List(Entry);     # append only: indexes logIndex + 1, logIndex + 2, ...
  reject @9 :Bool;
  force @10 :Bool;
  rejectHint @11 :UInt64;
  context @12 :UInt64;
  snapshot @13 :SnapshotMeta;  # snapshot only
}

interface RaftPeer {
  # A batch of raft messages, for any number of groups, from node `from` (a tessera node id).
  # The answer means only that the receiving node took the batch off the wire (it queued the
  # messages for its groups or dropped those that did not decode); it says nothing about raft.
  # A sender keeps a few batches in flight per peer and coalesces what waits meanwhile.
  send @0 (from :Text, messages :List(GroupMessage)) -> ();

  # Opens the stream of a state-machine image for the snapshot message `message` (type snapshot)
  # from node `from`. The receiver stages the image (on disk) and steps `message` into its
  # group only once `SnapshotSink.done` succeeded. Fails (an RPC exception naming why) when the
  # receiver takes no more snapshots now, or cannot stage one; the sender retries later.
  snapshot @1 (from :Text, message :GroupMessage) -> (sink :SnapshotSink);
}

# The receiving end of one image. Chunks come in order; a sender keeps a bounded window of
# chunks unanswered (a few MiB), so that no message is large and a slow disk slows the sender
# instead of filling memory. Dropping the capability before `done` answered aborts the stream.
interface SnapshotSink {
  # The image's bytes [offset, offset + data.size()). `offset` must equal the bytes received so
  # far and `data` be at most the receiver's chunk bound (1 MiB by default); an exception
  # otherwise, or when staging failed, and the stream is over.
  chunk @0 (offset :UInt64, data :Data) -> ();

  # The whole image (`size` bytes) was sent: the receiver makes it durable and takes the
  # snapshot message. An exception when the size does not match or staging failed.
  done @1 (size :UInt64) -> ();
}
