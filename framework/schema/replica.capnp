# Tessera node-to-node API: what one node asks of another in the AP ("Dynamo") profile.
#
# Not for clients. A node reaches a peer's `Replica` through the `PeerLink` it gets from the
# peer's bootstrap `Tessera` capability once it proved the cluster secret
# (`Tessera.peerChallenge`, `Tessera.authenticatePeer`, then `PeerLink.replica`). Every method answers with an `Error` (tessera.capnp), `ok` on
# success; an RPC exception means the connection or the peer failed, and the caller counts the
# peer as not having answered.
#
# Compatibility: as tessera.capnp, this schema only grows.
@0xd45a2ed17c830caf;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tessera::rpc");

using Api = import "tessera.capnp";

# One version of a key as a replica keeps it: a value, or a tombstone (whose `value` is the
# time it was written, fixed64 big-endian milliseconds).
struct StoredVersion {
  version @0 :Data;    # opaque; made and compared by the cluster's conflict plugin
  tombstone @1 :Bool;
  value @2 :Data;
}

# A key and every version a replica holds of it.
struct KeyVersions {
  key @0 :Data;
  versions @1 :List(StoredVersion);
}

interface Replica {
  # Merges `versions` into this node's copy of `key`: what no version supersedes survives
  # (the conflict plugin decides). Used for a coordinator's write and for read repair.
  # `hintFor`, when not empty, is the home replica this node stands in for (sloppy quorum).
  # Errors: noSuchTable, tooLarge, invalidArgument (bytes that are not versions), ioError.
  write @0 (table :Text, key :Data, versions :List(StoredVersion), hintFor :Text)
      -> (error :Api.Error);

  # Every version this node holds of `key`, tombstones included (empty when none).
  read @1 (table :Text, key :Data) -> (error :Api.Error, versions :List(StoredVersion));

  # This node's copies of the keys in [start, end) from `pageToken` on, in key order, with
  # every version (tombstones too), at most `limit` keys (0 = the node's maximum); paged like
  # Tessera.scan. A coordinator merges the pages of every replica.
  scan @4 (table :Text, start :Data, end :Data, limit :UInt32, pageToken :Data)
      -> (error :Api.Error, items :List(KeyVersions), nextPageToken :Data);

  # Table changes, from the node a client asked. Errors: as the client API's.
  createTable @2 (name :Text) -> (error :Api.Error);
  dropTable @3 (name :Text) -> (error :Api.Error);

  # Several `write`s in one call, each merged and answered on its own (`errors[i]` answers
  # `writes[i]`), so that a coordinator sends one call per peer per turn of its event loop
  # rather than one per write. At most 1024 writes (invalidArgument in every error past it).
  writeBatch @5 (writes :List(ReplicaWrite)) -> (errors :List(Api.Error));
}

# One write of a writeBatch: the arguments of Replica.write.
struct ReplicaWrite {
  table @0 :Text;
  key @1 :Data;
  versions @2 :List(StoredVersion);
  hintFor @3 :Text;
}
