# The commands of a range's replication group (the leader profile): one Raft group per key range
# [start, end) of one table. A router proposes a RangeCommand to the group's leader; every
# replica applies the committed commands, in log order, to its share of the node's storage
# engine (framework/leader/range). What applying a command answered comes back to the proposer
# as a RangeResult.
#
# A command is checked against the range as the replica knows it when it applies the command,
# never when it is proposed: a router whose map is out of date gets a staleRoute refusal even if
# the leader had the same stale view when the command entered the log. A refused command changes
# nothing, yet takes its place in the log like any other.
#
# Compatibility: this schema only grows. Ordinals are never reused or renumbered.

@0xccd2385387783197;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tessera::rpc::range");

using Tessera = import "tessera.capnp";

# One key of a write, put or removed.
struct RangeWrite {
  key @0 :Data;        # a user key, inside the range; the table is the range's
  union {
    put @1 :Data;      # the new value (may be empty)
    remove @2 :Void;   # the key has no value afterwards; removing a missing key is applied
  }
}

struct RangeCommand {
  # The range the router addressed (RangeDescriptor.id). Another range's id is refused with
  # staleRoute.
  rangeId @0 :UInt64;
  # The range's epoch in the router's descriptor. Any other epoch than the replica's current one
  # is refused with staleRoute (Error.routeEpoch = the replica's epoch): the range was split,
  # moved or changed since the router looked.
  epoch @1 :UInt64;
  # The version the leader proposed, from the conflict plugin's new_version (16 bytes for lww).
  # The version applied is the conflict plugin's order_after(sequencer, last applied), so it is
  # above every version applied before it, whatever the proposer's clock said. Bytes that are
  # not a version of the node's conflict plugin are refused with invalidArgument; a plugin
  # without a total order (vector clocks) refuses every write with notSupported.
  sequencer @2 :Data;
  union {
    # No operation: what an all-zero (or truncated) message reads as. Refused with
    # invalidArgument, so that garbage is never taken for a write.
    none @3 :Void;
    # Applied atomically, every key with the one version applied: all of it or, when refused,
    # none of it. Every key must be inside the range (else staleRoute); an empty list is refused
    # with invalidArgument. A key written twice keeps the later of its writes.
    write @4 :List(RangeWrite);
    # Room for the range's own changes (a split at a key) as later members.
  }
}

# What applying one command answered.
struct RangeResult {
  # ok, or why the command was refused: staleRoute (routeEpoch = the replica's current epoch),
  # invalidArgument (does not parse, no operation, an empty write, a bad sequencer), tooLarge (a
  # key or value the engine cannot take), notSupported (the conflict plugin has no total order).
  error @0 :Tessera.Error;
  # ok: the version every key of the write was stored with. Empty on a refusal.
  version @1 :Data;
}
