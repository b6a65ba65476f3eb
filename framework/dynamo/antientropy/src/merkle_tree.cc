#include "tessera/antientropy/merkle_tree.h"

#include <xxhash.h>

#include <array>
#include <string>

#include "tessera/assert.h"

namespace tessera::antientropy {
namespace {

// Seeds keep the three kinds of hashes apart.
constexpr uint64_t kElementSeed = 0x6b65792d64696765;  // "key-dige"
constexpr uint64_t kInnerSeed = 0x696e6e65722d6e64;    // "inner-nd"

void put_le64(unsigned char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}

// What one key adds to its leaf.
Hash element_hash(Token token, Digest digest) {
  unsigned char bytes[16];
  put_le64(bytes, token);
  put_le64(bytes + 8, digest);
  return XXH64(bytes, sizeof(bytes), kElementSeed);
}

uint32_t log2_of_fan_out(uint32_t fan_out) {
  switch (fan_out) {
    case 2:
      return 1;
    case 4:
      return 2;
    case 8:
      return 3;
    case 16:
      return 4;
    default:
      return 0;
  }
}

}  // namespace

Status check_shape(const TreeShape& shape) {
  const uint32_t bits = log2_of_fan_out(shape.fan_out);
  if (bits == 0) {
    return Status::invalid_argument("fan_out must be 2, 4, 8 or 16, not " +
                                    std::to_string(shape.fan_out));
  }
  if (shape.depth < 1) return Status::invalid_argument("depth must be at least 1");
  if (uint64_t{bits} * shape.depth > 16) {
    return Status::invalid_argument("fan_out^depth (" + std::to_string(shape.fan_out) + "^" +
                                    std::to_string(shape.depth) + ") is over " +
                                    std::to_string(kLeavesMax) + " leaves");
  }
  return Status::ok();
}

size_t tree_memory_bytes(const TreeShape& shape) {
  TESSERA_REQUIRE(check_shape(shape).is_ok());
  const uint32_t bits = log2_of_fan_out(shape.fan_out);
  size_t nodes = 0;
  for (uint32_t level = 0; level <= shape.depth; ++level) nodes += size_t{1} << (bits * level);
  return nodes * sizeof(Hash);
}

MerkleTree::MerkleTree(TokenRange range, TreeShape shape) : range_(range), shape_(shape) {
  TESSERA_REQUIRE(check_shape(shape).is_ok(), "see check_shape");
  fan_out_bits_ = log2_of_fan_out(shape.fan_out);
  size_t start = 0;
  for (uint32_t level = 0; level <= shape.depth; ++level) {
    level_start_.push_back(start);
    start += size_t{1} << (fan_out_bits_ * level);
  }
  hashes_.assign(start, 0);
  rehash_all();
}

uint32_t MerkleTree::nodes_at(uint32_t level) const {
  TESSERA_REQUIRE(level <= shape_.depth);
  return uint32_t{1} << (fan_out_bits_ * level);
}

uint32_t MerkleTree::leaf_of(Token token) const {
  TESSERA_REQUIRE(range_.contains(token), "token outside the tree's range");
  const unsigned __int128 scaled =
      static_cast<unsigned __int128>(range_.offset_of(token)) * leaf_count();
  const uint32_t leaf = static_cast<uint32_t>(scaled / range_.size());
  TESSERA_ASSERT(leaf < leaf_count());
  return leaf;
}

std::optional<TokenSpan> MerkleTree::leaf_tokens(uint32_t leaf) const {
  TESSERA_REQUIRE(leaf < leaf_count());
  // Leaf i holds the offsets o with floor(o * leaves / size) == i, i.e. from
  // ceil(i * size / leaves) to ceil((i + 1) * size / leaves) - 1.
  const unsigned __int128 size = range_.size();
  const unsigned __int128 leaves = leaf_count();
  const unsigned __int128 first = (leaf * size + leaves - 1) / leaves;
  const unsigned __int128 end = ((leaf + 1) * size + leaves - 1) / leaves;
  if (first >= end) return std::nullopt;
  return TokenSpan{range_.start + static_cast<Token>(first),
                   range_.start + static_cast<Token>(end - 1)};
}

uint32_t MerkleTree::add_to_leaf(Token token, Hash delta) {
  const uint32_t leaf = leaf_of(token);
  hashes_[slot(shape_.depth, leaf)] += delta;
  return leaf;
}

void MerkleTree::add(Token token, Digest digest) {
  rehash_path(add_to_leaf(token, element_hash(token, digest)));
}

void MerkleTree::remove(Token token, Digest digest) {
  rehash_path(add_to_leaf(token, Hash{0} - element_hash(token, digest)));
}

void MerkleTree::update(Token token, std::optional<Digest> before, std::optional<Digest> after) {
  TESSERA_REQUIRE(range_.contains(token), "token outside the tree's range");
  if (before == after) return;
  Hash delta = 0;
  if (before) delta -= element_hash(token, *before);
  if (after) delta += element_hash(token, *after);
  rehash_path(add_to_leaf(token, delta));
}

Hash MerkleTree::node(uint32_t level, uint32_t index) const {
  TESSERA_REQUIRE(index < nodes_at(level));
  return hashes_[slot(level, index)];
}

Hash MerkleTree::hash_children(uint32_t level, uint32_t index) const {
  std::array<unsigned char, kFanOutMax * 8> bytes;
  const uint32_t first = index << fan_out_bits_;
  for (uint32_t i = 0; i < shape_.fan_out; ++i) {
    put_le64(bytes.data() + 8 * i, hashes_[slot(level + 1, first + i)]);
  }
  return XXH64(bytes.data(), size_t{8} * shape_.fan_out, kInnerSeed);
}

void MerkleTree::rehash_path(uint32_t leaf) {
  uint32_t index = leaf;
  for (uint32_t level = shape_.depth; level-- > 0;) {
    index >>= fan_out_bits_;
    hashes_[slot(level, index)] = hash_children(level, index);
  }
}

void MerkleTree::rehash_all() {
  for (uint32_t level = shape_.depth; level-- > 0;) {
    for (uint32_t index = 0; index < nodes_at(level); ++index) {
      hashes_[slot(level, index)] = hash_children(level, index);
    }
  }
}

void MerkleTreeBuilder::add(Token token, Digest digest) {
  tree_.add_to_leaf(token, element_hash(token, digest));
}

MerkleTree MerkleTreeBuilder::finish() && {
  tree_.rehash_all();
  return std::move(tree_);
}

}  // namespace tessera::antientropy
