# Tessera client API, version 1.
#
# A client connects with Cap'n Proto two-party RPC (over TLS when the node has a [tls]
# certificate: it then speaks nothing else) and receives the `Tessera` interface as the
# bootstrap capability. A node configured with client tokens ([security] tokens_file) answers
# every call on it with `unauthorized` until the client presents a token (`authenticate`), whose
# answer is a `Tessera` session bound to the token's role: read (hello, listTables, get, scan),
# write (also put, remove, write) or admin (also createTable, dropTable, status, members, ring,
# hints, decommission); a call the role does not allow answers `forbidden`. A node without tokens serves every
# call on the bootstrap (it listens on loopback only). The node-to-node calls (peerChallenge,
# authenticatePeer) need no token. Every method answers with an `Error` whose code is `ok` on
# success; a failed call never throws an RPC exception for a reason the client can act on: those come back
# as typed errors (see ErrorCode). An RPC exception means the connection or the node itself
# failed.
#
# Compatibility: this schema only grows. Ordinals are never reused or renumbered; new fields get
# new ordinals and defaults that keep the old meaning.
@0xc0f8e5f1059bb839;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tessera::rpc");

const apiVersion :UInt32 = 1;

# What went wrong, as a closed set. The numbering equals the framework's StatusCode.
enum ErrorCode {
  ok @0;
  notFound @1;           # a named thing other than a table does not exist
  invalidArgument @2;    # the request is malformed (bad table name, bad page token, ...)
  tooLarge @3;           # a key, value or batch is over the node's configured limit
  noSuchTable @4;        # the table does not exist
  tableExists @5;        # createTable of a table that exists
  notLeader @6;          # CP: this node does not lead the key's group; see Error.leaderHint
  staleRoute @7;         # CP: the range map the request was routed with is out of date; retry
  quorumUnavailable @8;  # AP: fewer replicas answered than required; see answered/required
  timeout @9;            # the request's deadline passed; a write may or may not have applied
  corruption @10;        # stored data failed a checksum on this node
  ioError @11;           # the node's disk refused a read, write or fsync
  notSupported @12;      # this node's profile or plugins do not offer the operation
  busy @13;              # the node is over its in-flight request bound; back off and retry
  unavailable @14;       # the node is starting or shutting down
  internal @15;          # a bug in the node, reported instead of crashing it
  unauthorized @16;      # the caller proved no identity, or a wrong one (no token, a bad token,
                         # a peer proof that does not verify)
  forbidden @17;         # the caller's role does not allow the call (a read token asking to put)
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;      # human-readable; names what is wrong (table, key size, limit)
  leaderHint @2 :Text;   # notLeader: "host:port" of the node believed to lead; empty if unknown
  answered @3 :UInt32;   # quorumUnavailable: replicas that answered in time
  required @4 :UInt32;   # quorumUnavailable: replicas the request needed
  routeEpoch @5 :UInt64; # staleRoute: the range's epoch at the replica that refused
}

enum Consistency {
  default @0;       # the node's configured default
  one @1;           # AP: R or W = 1
  quorum @2;        # AP: majority of N
  all @3;           # AP: N
  linearizable @4;  # CP: read from the leader after confirming leadership
  stale @5;         # CP: read from any replica, possibly behind
}

# Per-request options. A single node accepts and ignores the distributed ones.
struct RequestOptions {
  consistency @0 :Consistency;
  readQuorum @1 :UInt8;    # AP: explicit R; 0 = from `consistency`
  writeQuorum @2 :UInt8;   # AP: explicit W; 0 = from `consistency`
  timeoutMs @3 :UInt32;    # 0 = the node's default request timeout
  context @4 :Data;        # AP: causal context from an earlier get, for a write that supersedes it
}

struct TableInfo {
  name @0 :Text;
}

# One stored version of a value. In the vector-clock profile a get may return several concurrent
# siblings; with last-write-wins exactly one.
struct Value {
  data @0 :Data;
  version @1 :Data;   # opaque; interpreted by the node's conflict plugin
}

struct KeyValue {
  key @0 :Data;
  value @1 :Data;
  version @2 :Data;
}

struct BatchOp {
  key @0 :Data;
  union {
    put @1 :Data;      # the value to store
    remove @2 :Void;   # delete the key (not an error when missing)
  }
}

interface Tessera {
  # The API version the node speaks (`apiVersion` above) and the node's id. Needs role read;
  # `error` (unauthorized, forbidden) says why the other fields are empty. A node older than
  # `error` leaves it ok.
  hello @0 () -> (apiVersion :UInt32, nodeId :Text, error :Error);

  # Table calls take `options` for their timeout (consistency and context do not apply).
  listTables @1 (options :RequestOptions) -> (error :Error, tables :List(TableInfo));

  # Names are 1 to 128 characters of [A-Za-z0-9_.-]. Errors: tableExists, invalidArgument.
  # `splitKeys` (CP only): the table starts as one range per key plus the first, each range
  # beginning at its key (increasing, non-empty), each its own Raft group; other profiles
  # answer invalidArgument for a non-empty list.
  createTable @2 (name :Text, options :RequestOptions, splitKeys :List(Data)) -> (error :Error);

  # Removes the table and all its data. Errors: noSuchTable.
  dropTable @3 (name :Text, options :RequestOptions) -> (error :Error);

  # Stores `value` under `key`; acknowledged only once durable on the replicas the consistency
  # level asks for. Returns the version the write made.
  # Errors: noSuchTable, tooLarge, timeout, quorumUnavailable, notLeader, ioError.
  put @4 (table :Text, key :Data, value :Data, options :RequestOptions)
      -> (error :Error, version :Data);

  # `found` is false when the key has no live value (absent or deleted): that is not an error.
  # `values` holds one value, or several concurrent siblings in the vector-clock profile;
  # `context` is what a following put or remove should send back to supersede them.
  get @5 (table :Text, key :Data, options :RequestOptions)
      -> (error :Error, found :Bool, values :List(Value), context :Data);

  # Deletes `key` by writing a tombstone. Deleting a missing key is not an error.
  remove @6 (table :Text, key :Data, options :RequestOptions) -> (error :Error);

  # Live keys in [start, end) in byte order, at most `limit` of them (0 = the node's maximum).
  # An empty `end` means to the end of the table. When `nextPageToken` is not empty, more keys
  # may follow: call again with it as `pageToken` (and the same table, start and end).
  # A page may hold fewer than `limit` items even when more follow (the node bounds the work
  # of one page).
  scan @7 (table :Text, start :Data, end :Data, limit :UInt32, pageToken :Data,
           options :RequestOptions)
      -> (error :Error, items :List(KeyValue), nextPageToken :Data);

  # Applies all `ops` to `table` atomically on each replica.
  # Errors: as put; invalidArgument for an empty batch is not raised (it is a no-op).
  # invalidArgument, with nothing applied, for an op of a kind this node does not know (one a
  # later schema added).
  write @8 (table :Text, ops :List(BatchOp), options :RequestOptions) -> (error :Error);

  # Superseded by `PeerLink.replica` (below): node-to-node capabilities are handed out only to a
  # peer that proved the cluster secret (authenticatePeer). Always answers `unauthorized`.
  replica @9 () -> (error :Error, replica :Capability);

  # Superseded by `PeerLink.peer`, like `replica`. Always answers `unauthorized`.
  peer @10 (name :Text) -> (error :Error, service :Capability);

  # What this node is and how it is doing (`tessera status`).
  status @11 (options :RequestOptions) -> (error :Error, status :NodeStatus);

  # The members this node knows and their state (`tessera members`).
  members @12 (options :RequestOptions) -> (error :Error, members :List(MemberInfo));

  # Who owns what (`tessera ring`). Leader profile: every range with its group and, where this
  # node hosts a replica, the group's term, leader and indexes. Dynamo: the ring's token ranges
  # (table empty, start and end 8-byte big-endian tokens) with their N owners as `voters`.
  # Single: notSupported.
  ring @13 (options :RequestOptions) -> (error :Error, ranges :List(RangeInfo));

  # Dynamo: the hints this node holds for each node it stood in for (`tessera hints`), counted
  # up to a bound (`truncated` past it). Other profiles: notSupported.
  hints @14 (options :RequestOptions) -> (error :Error, pending :List(HintCount), truncated :Bool);

  # Dynamo (`tessera decommission`): copies every key this node owns to the nodes that own it
  # once this node is gone, then leaves the ring; its peers then stop sending to it and stream
  # again what reached it meanwhile. Answers once it has left, with the keys copied. The work
  # goes on past the caller's deadline (call again to wait for it). Errors: unavailable (the
  # ring would keep fewer members than copies, or a node did not take a copy: the node stays a
  # member). Other profiles: notSupported. Needs role admin, like `status`.
  decommission @15 (options :RequestOptions) -> (error :Error, keysCopied :UInt64);

  # Node-to-node, not for clients: the first step of a peer's authentication. Answers a fresh
  # random 32-byte `nonce` for this connection; it stays valid for one authenticatePeer call on
  # the same connection (a second peerChallenge replaces it). Errors: notSupported on a node that
  # runs no distributed profile (it has no cluster secret).
  peerChallenge @16 () -> (error :Error, nonce :Data);

  # Node-to-node, not for clients: proves that the caller, node `nodeId`, holds the cluster
  # secret (`[security] cluster_secret_file`), with
  #   proof = HMAC-SHA256(secret, nonce || nodeId)
  # over the nonce of this connection's last peerChallenge (its 32 bytes, then the id's UTF-8
  # bytes). On success `link` is this node's side of the node-to-node API for the caller.
  # The nonce is used up by the call, whatever its outcome.
  # Errors: unauthorized (no challenge was asked on this connection, or the proof does not
  # verify: a wrong secret, a replayed proof); invalidArgument (an empty nodeId);
  # notSupported (a node with no cluster secret).
  authenticatePeer @17 (nodeId :Text, proof :Data) -> (error :Error, link :PeerLink);

  # Presents a client token ([security] tokens_file holds their SHA-256). On success `session`
  # is this API bound to the token's role, for this client to call from now on; `role` names it
  # ("read", "write" or "admin"). Errors: unauthorized (a token the node does not know; the
  # message never repeats the token). A node that authenticates no clients answers ok and a
  # session with every role, whatever the token.
  authenticate @18 (token :Data) -> (error :Error, session :Tessera, role :Text);

  # Dynamo (`tessera remove-node`): takes node `id`, which is down for good, out of the cluster
  # on its behalf: it becomes `left` in every member's view, its ranges move to the nodes next
  # on the ring, which the nodes holding copies stream to them, and the hints held for it go to
  # those nodes. Errors: invalidArgument (`id` is alive or suspect here, or is this node: a
  # running node leaves with decommission); notFound (no member `id`). Other profiles:
  # notSupported. Needs role admin.
  removeNode @19 (id :Text, options :RequestOptions) -> (error :Error);
}

# What an authenticated peer gets (Tessera.authenticatePeer): the node-to-node capabilities.
interface PeerLink {
  # This node's `Replica` (replica.capnp), through which peers of the AP profile write and read
  # this node's copies. Errors: notSupported on a node that runs no AP profile.
  replica @0 () -> (error :Error, replica :Capability);

  # The service named `name` that a plugin or the profile of this node offers to its
  # counterparts on other nodes ("raft": the Raft membership plugin's RaftPeer, with raft
  # messages and snapshot chunks; "leader": the leader profile's client API served from this
  # node's replicas only). The service's schema belongs to whoever offers it; cast `service` to
  # it. Errors: notFound when none offers `name`; notSupported when nothing on this node offers
  # peer services.
  peer @1 (name :Text) -> (error :Error, service :Capability);
}

struct HintCount {
  target @0 :Text;
  count @1 :UInt64;
}

struct MemberInfo {
  id @0 :Text;
  address @1 :Text;
  zone @2 :Text;
  state @3 :Text;   # alive, suspect, dead, left
  joining @4 :Bool; # Dynamo: copying its ranges; it owns none until the copy is done
}

struct RangeInfo {
  table @0 :Text;
  start @1 :Data;
  end @2 :Data;        # empty: to the table's end
  rangeId @3 :UInt64;
  epoch @4 :UInt64;
  group @5 :Text;
  voters @6 :List(Text);
  leader @7 :Text;     # as this node knows it; empty when unknown
  hosted @8 :Bool;     # this node has a replica: the fields below are its view
  term @9 :UInt64;
  commitIndex @10 :UInt64;
  appliedIndex @11 :UInt64;
}

struct PluginInfo {
  slot @0 :Text;     # engine, conflict, placement, membership
  name @1 :Text;     # as its descriptor names it
  version @2 :Text;
  file @3 :Text;     # the shared library it was loaded from
}

struct Stat {
  name @0 :Text;
  value @1 :Float64;
}

struct NodeStatus {
  nodeId @0 :Text;
  profile @1 :Text;         # single, dynamo, leader
  listen @2 :Text;          # host:port of this API
  uptimeMs @3 :UInt64;
  plugins @4 :List(PluginInfo);
  dataBytes @5 :UInt64;     # the engine's approximate size of everything it stores
  engineStats @6 :List(Stat);
  membershipStats @7 :List(Stat);  # e.g. the raft plugin's log and group counters
  profileStats @8 :List(Stat);     # e.g. the dynamo profile's anti-entropy counters
}
