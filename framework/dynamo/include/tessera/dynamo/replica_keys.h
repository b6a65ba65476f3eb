// ReplicaKeys: the keys this node replicates together with one peer, as anti-entropy sees them.
//
// Anti-entropy (antientropy/) compares two replicas' Merkle trees of a token range. Here the
// range is the whole ring of a token the node computes itself, xxHash64 of the host key
// (length_prefixed(table) + key), so that both sides place every key alike without the
// placement's hash; and the keys of one tree are those both nodes own (the key's N owners, by
// the placement's current view, include both). The digest of a key covers its versions sorted
// into one canonical order, so replicas holding the same versions agree whatever order their
// store keeps them in.
//
// Trees are built by one pass over the store when a session starts, not kept beside it: the
// pass costs O(keys) reads per session and a tree of at most 546 KiB, and nothing is added to
// the write path. A leaf is listed by another pass (the store keeps keys in byte order, not in
// token order).
//
// Thread-safety: every function blocks on the store (run on the worker pool) and may be called
// concurrently. Ownership: borrows what it is given.
#pragma once

#include <string>
#include <vector>

#include "tessera/antientropy/effects.h"
#include "tessera/antientropy/merkle_tree.h"
#include "tessera/antientropy/session.h"
#include "tessera/node/local_store.h"
#include "tessera/placement.h"

namespace tessera::dynamo {

// Where a replica's keys are and who owns them.
struct ReplicaView {
  node::LocalStore* store = nullptr;
  const Placement* placement = nullptr;
  NodeId self;
};

Bytes host_key(std::string_view table, ByteView key);
// False for bytes that are not a host key.
bool split_host_key(ByteView host_key, std::string* table, Bytes* key);
antientropy::Token token_of(ByteView host_key);
// The digest of `versions`, in canonical order.
antientropy::Digest digest_of_versions(ByteView host_key, std::vector<VersionedValue> versions);

// The tree shape for about `keys` keys: 16-ary, the fewest levels (1 to 4) that leave at most
// kEntriesPerPageMax keys per leaf on average.
antientropy::TreeShape shape_for(size_t keys);

struct CoOwnedTree {
  antientropy::MerkleTree tree;
  size_t keys = 0;
};

// The tree of every key `view.self` and `peer` both own, over the whole ring, of `shape`.
Result<CoOwnedTree> build_co_owned_tree(const ReplicaView& view, const NodeId& peer,
                                        antientropy::TreeShape shape);

// The answer to `read` from the keys both own (effects.h, ReadLeafEntries).
Result<antientropy::LeafEntries> read_co_owned_leaves(const ReplicaView& view, const NodeId& peer,
                                                      const antientropy::MerkleTree& tree,
                                                      const antientropy::ReadLeafEntries& read);

struct HostKeyVersions {
  std::string table;
  Bytes key;
  std::vector<VersionedValue> versions;
};

// This node's versions of `host_keys` (keys it no longer holds, or of tables gone, are left
// out).
Result<std::vector<HostKeyVersions>> read_host_keys(node::LocalStore* store,
                                                    const std::vector<Bytes>& host_keys);

}  // namespace tessera::dynamo
