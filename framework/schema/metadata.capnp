# The metadata group's commands: what the leader profile's metadata service records, as entries
# of its Raft log. Every node that holds a replica of the metadata group applies them, in log
# order, to its SQLite copy (framework/leader/metadata). A command is refused (its result says
# why) without changing anything; a command that is applied raises the map's generation when it
# changes the range map.

@0x99156271fa50fc5d;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tessera::rpc::meta");

struct NodeRecord {
  id @0 :Text;
  address @1 :Text;   # "host:port" of the node's RPC endpoint
  zone @2 :Text;      # failure domain; empty when zones are not configured
}

enum RangeState {
  stable @0;
  splitting @1;        # a split at splitKey is under way
  addingLearner @2;    # learners are catching up
  removingReplica @3;  # leaving is on its way out
}

struct RangeRecord {
  id @0 :UInt64;
  table @1 :Text;
  start @2 :Data;
  end @3 :Data;        # empty: to the end of the table
  epoch @4 :UInt64;
  group @5 :Text;
  voters @6 :List(Text);
  learners @7 :List(Text);
  leader @8 :Text;
  state @9 :RangeState;
  splitKey @10 :Data;
  leaving @11 :Text;
}

struct RangeUpdate {
  range @0 :RangeRecord;
  expectEpoch @1 :UInt64;
}

# A table's range after its first, as createTable makes it.
struct InitialRange {
  start @0 :Data;
  group @1 :Text;
  voters @2 :List(Text);
}

struct Command {
  union {
    # The first command of a cluster's metadata log, proposed from the static config on the
    # first start. Refused once the cluster is founded: it is never founded again.
    found :group {
      clusterId @0 :Text;
      nodes @1 :List(NodeRecord);
    }
    # Adds or replaces a node's address and zone.
    putNode @2 :NodeRecord;
    # A new table with an id never used before, and one range from the first key, replicated
    # by `group` on `voters`; then one range for each of `moreRanges`, from its start (the
    # starts increasing, non-empty), each with its own group and voters. The last range is
    # open-ended; each ends where the next starts.
    createTable :group {
      name @3 :Text;
      group @4 :Text;
      voters @5 :List(Text);
      moreRanges @10 :List(InitialRange);
    }
    # Drops the table and its ranges; its id is not reused.
    dropTable @6 :Text;
    # Replaces ranges' descriptors, all or none: each only if its current epoch is its
    # `expectEpoch` (compare and set), with a new epoch of expectEpoch + 1; a range not known
    # yet is added when its expectEpoch is 0 (the right half of a split). Refused unless every
    # table touched is still tiled by its ranges afterwards.
    putRanges @7 :List(RangeUpdate);
    # Records a range's leader as seen by a node; no epoch change (routes stay valid).
    setLeader :group {
      rangeId @8 :UInt64;
      leader @9 :Text;
    }
  }
}

# What applying one command answered, as the result bytes handed to its proposer.
struct Result {
  code @0 :UInt16;      # a tessera StatusCode; 0 = applied
  message @1 :Text;
  tableId @2 :UInt64;   # createTable
  rangeId @3 :UInt64;   # createTable: the table's first range
  generation @4 :UInt64;  # the map's generation after the command
}
