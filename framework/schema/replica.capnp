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
  # `joiner`, when not empty, keeps of the page only the keys that node will own once its join
  # is done (a joining node copying its ranges); a page may then hold fewer keys, or none, and
  # still have a next page. Errors: unavailable when this node does not see `joiner` joining.
  scan @4 (table :Text, start :Data, end :Data, limit :UInt32, pageToken :Data, joiner :Text)
      -> (error :Api.Error, items :List(KeyVersions), nextPageToken :Data);

  # A table change made on this node, stamped here, as a client's createTable / dropTable
  # would (nodes now send exchangeTables instead). Errors: as the client API's.
  createTable @2 (name :Text) -> (error :Api.Error);
  dropTable @3 (name :Text) -> (error :Api.Error);

  # Several `write`s in one call, each merged and answered on its own (`errors[i]` answers
  # `writes[i]`), so that a coordinator sends one call per peer per turn of its event loop
  # rather than one per write. At most 1024 writes (invalidArgument in every error past it).
  writeBatch @5 (writes :List(ReplicaWrite)) -> (errors :List(Api.Error));

  # Tables are cluster state: this node takes every state of `states` (the caller's view of
  # the cluster's tables) that supersedes its own, changing its tables to match, and answers
  # its whole view after that, which the caller takes in turn, so that one call brings both
  # sides level. Sent with every table change and periodically to a random member
  # (framework/dynamo/.../table_states.h has the rules). At most 100,000 states a call; a
  # state this node refuses (a bad name) is passed over. Errors: ioError, invalidArgument.
  exchangeTables @6 (states :List(TableState)) -> (error :Api.Error, states :List(TableState));

  # Merkle anti-entropy (framework/dynamo/antientropy has the protocol): one message of the
  # caller's session `message.session` over the keys both nodes replicate, and this node's
  # answer. The caller does every repair: it merges `push` (this node's versions of keys the
  # caller lacks or holds otherwise) into its copies, and sends its own versions of `fetch`
  # (keys this node wants) with writeBatch. `finished`: this node's side is over. A message
  # this node cannot place (no such session, a full table of sessions) is answered with
  # `finished` and no reply; errors: busy (too many sessions at once), invalidArgument.
  # The session belongs to the peer this capability was handed to (the id it proved in
  # Tessera.authenticatePeer); `from` is informational and not trusted.
  antiEntropy @7 (from :Text, message :AntiEntropyMessage)
      -> (error :Api.Error, hasReply :Bool, reply :AntiEntropyMessage,
          push :List(TableKeyVersions), fetch :List(TableKey), finished :Bool);
}

# A key of a table, as anti-entropy names it.
struct TableKey {
  table @0 :Text;
  key @1 :Data;
}

struct TableKeyVersions {
  table @0 :Text;
  key @1 :Data;
  versions @2 :List(StoredVersion);
}

# antientropy::Message: the session, its seq, the tree's token range and shape, and the body.
struct AntiEntropyMessage {
  session @0 :UInt64;
  seq @1 :UInt32;
  rangeStart @2 :UInt64;
  rangeEnd @3 :UInt64;
  fanOut @4 :UInt32;
  depth @5 :UInt32;
  partial @6 :Bool;
  body :union {
    nodeHashes @7 :NodeHashes;
    noDifference @8 :Void;
    leafPage @9 :LeafPage;
    leafPageAck @10 :LeafPageAck;
  }

  struct NodeHash {
    index @0 :UInt32;
    hash @1 :UInt64;
  }
  struct NodeHashes {
    level @0 :UInt32;
    nodes @1 :List(NodeHash);
  }
  # A place between entries; `set` false: none (the start or the end of the leaves).
  struct Position {
    set @0 :Bool;
    token @1 :UInt64;
    key @2 :Data;
  }
  struct KeyDigest {
    token @0 :UInt64;
    key @1 :Data;
    digest @2 :UInt64;
  }
  struct LeafPage {
    leaves @0 :List(UInt32);
    after @1 :Position;
    through @2 :Position;
    entries @3 :List(KeyDigest);
  }
  struct LeafPageAck {
    comparedThrough @0 :Position;
  }
}

# A table as one node knows it: live or dropped, with the stamp (the maker's milliseconds,
# then its node id) of the change that made it so. The higher stamp wins.
struct TableState {
  name @0 :Text;
  live @1 :Bool;
  stampMs @2 :UInt64;
  stampNode @3 :Text;
  # Live: the newest drop this create followed (0 and empty when none). A copy of the table
  # made before it holds a dropped table's data, and is made anew.
  afterDropMs @4 :UInt64;
  afterDropNode @5 :Text;
}

# One write of a writeBatch: the arguments of Replica.write.
struct ReplicaWrite {
  table @0 :Text;
  key @1 :Data;
  versions @2 :List(StoredVersion);
  hintFor @3 :Text;
}
