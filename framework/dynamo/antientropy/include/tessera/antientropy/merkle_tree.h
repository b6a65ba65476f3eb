// MerkleTree: hashes of one token range's keys, for comparing two replicas of the range.
//
// Purpose: a replica keeps one tree per token range it replicates and updates it on every
// write, so that two replicas compare the range by exchanging a few hashes (session.h) instead
// of their keys. The tree has a fixed shape: `fan_out` children per node, `depth` levels below
// the root, fan_out^depth leaves. Leaf i covers the i-th of fan_out^depth equal slices of the
// range's tokens (leaf_of, leaf_tokens). A leaf's hash is the wrapping sum, over the keys in
// its slice, of xxHash64(token, digest): order-independent, so adding or removing one key costs
// one addition or subtraction at its leaf plus rehashing the depth nodes above it. An inner
// node's hash is xxHash64 of its children's hashes (little-endian, so every platform agrees).
// An empty leaf hashes to 0.
//
// Memory: 8 bytes per node, (fan_out^(depth+1) - 1) / (fan_out - 1) nodes; memory_bytes().
// Binary depth 10 (the default): 1,024 leaves, 2,047 nodes, 16 KiB. The largest shape, binary
// depth 16: 65,536 leaves, 131,071 nodes, 1 MiB. 16-ary depth 4: 65,536 leaves, 546 KiB.
//
// The tree trusts its host: every add must be matched by at most one remove of the same
// (token, digest), and the digest must cover the key's versions (digest.h). Two replicas can
// compare trees only when both have the same range and shape.
// Thread-safety: none; one owner, or readers only. Ownership: a value; owns its hashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tessera/antientropy/digest.h"
#include "tessera/antientropy/token_range.h"
#include "tessera/status.h"

namespace tessera::antientropy {

using Hash = uint64_t;

// The largest fan-out (children per inner node); fan-outs are 2, 4, 8 or 16.
inline constexpr uint32_t kFanOutMax = 16;
// The most leaves a tree may have: bounds memory at 1 MiB per tree.
inline constexpr uint32_t kLeavesMax = uint32_t{1} << 16;
// The deepest tree: binary with kLeavesMax leaves.
inline constexpr uint32_t kDepthMax = 16;

struct TreeShape {
  uint32_t fan_out = 2;  // 2, 4, 8 or 16
  uint32_t depth = 10;   // levels below the root, >= 1

  friend bool operator==(const TreeShape&, const TreeShape&) = default;
};

// OK, or InvalidArgument naming the broken rule: fan_out is 2, 4, 8 or 16; depth >= 1;
// fan_out^depth <= kLeavesMax.
Status check_shape(const TreeShape& shape);

// Bytes of hashes a tree of `shape` holds. REQUIRES: check_shape(shape) is OK.
size_t tree_memory_bytes(const TreeShape& shape);

class MerkleTree {
 public:
  // An empty tree: every leaf 0. REQUIRES: check_shape(shape) is OK.
  MerkleTree(TokenRange range, TreeShape shape);

  const TokenRange& range() const { return range_; }
  const TreeShape& shape() const { return shape_; }
  uint32_t leaf_count() const { return nodes_at(shape_.depth); }
  // Nodes at `level` (0 = the root): fan_out^level. REQUIRES: level <= depth.
  uint32_t nodes_at(uint32_t level) const;
  size_t memory_bytes() const { return hashes_.size() * sizeof(Hash); }

  // The leaf whose slice holds `token`. REQUIRES: range().contains(token).
  uint32_t leaf_of(Token token) const;
  // The tokens of leaf `leaf`, or nullopt when the range has fewer tokens than leaves and this
  // one got none. REQUIRES: leaf < leaf_count().
  std::optional<TokenSpan> leaf_tokens(uint32_t leaf) const;

  // A key with this token and digest appeared (a write to a key absent before).
  // REQUIRES: range().contains(token).
  void add(Token token, Digest digest);
  // A key with this token and digest went away (it was added before).
  // REQUIRES: range().contains(token).
  void remove(Token token, Digest digest);
  // A key changed from `before` to `after` (nullopt: absent): remove, then add. Nothing
  // happens when they are equal. REQUIRES: range().contains(token).
  void update(Token token, std::optional<Digest> before, std::optional<Digest> after);

  Hash root() const { return hashes_[0]; }
  // REQUIRES: level <= depth; index < nodes_at(level).
  Hash node(uint32_t level, uint32_t index) const;

  // Same range, shape and every hash.
  friend bool operator==(const MerkleTree&, const MerkleTree&) = default;

 private:
  friend class MerkleTreeBuilder;

  size_t slot(uint32_t level, uint32_t index) const { return level_start_[level] + index; }
  // Adds `delta` (wrapping) to the leaf of `token`, without rehashing the path.
  uint32_t add_to_leaf(Token token, Hash delta);
  void rehash_path(uint32_t leaf);
  void rehash_all();
  Hash hash_children(uint32_t level, uint32_t index) const;  // of node (level, index)

  TokenRange range_;
  TreeShape shape_;
  uint32_t fan_out_bits_ = 1;
  std::vector<size_t> level_start_;  // depth + 1 entries: where each level starts in hashes_
  std::vector<Hash> hashes_;         // root first, then level by level
};

// Builds a tree from a full iteration of a range's keys (at startup, or when the range's
// ownership changes) in O(keys + nodes), rather than rehashing a path per key.
class MerkleTreeBuilder {
 public:
  // REQUIRES: check_shape(shape) is OK.
  MerkleTreeBuilder(TokenRange range, TreeShape shape) : tree_(range, shape) {}

  // Any order. REQUIRES: range.contains(token); each key added once.
  void add(Token token, Digest digest);
  // The same tree as adding every key to an empty MerkleTree one by one.
  MerkleTree finish() &&;

 private:
  MerkleTree tree_;
};

}  // namespace tessera::antientropy
