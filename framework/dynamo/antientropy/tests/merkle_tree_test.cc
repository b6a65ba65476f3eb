// MerkleTree: shapes and memory, leaves slicing the range, incremental updates equal to a
// rebuild, order independence, and one differing key showing as exactly one path.
#include "tessera/antientropy/merkle_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "replica_store.h"

namespace tessera::antientropy {
namespace {

using testing::token_of;

constexpr TokenRange kWholeRing{0, 0};
constexpr TokenRange kWrapping{~uint64_t{0} - (uint64_t{1} << 61), uint64_t{1} << 61};

struct Item {
  Token token;
  Digest digest;
};

std::vector<Item> random_items(const TokenRange& range, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Item> items;
  while (items.size() < count) {
    const Token token = rng();
    if (range.contains(token)) items.push_back({token, rng()});
  }
  return items;
}

TEST(TreeShape, RulesAreChecked) {
  EXPECT_TRUE(check_shape({2, 1}).is_ok());
  EXPECT_TRUE(check_shape({2, kDepthMax}).is_ok());
  EXPECT_TRUE(check_shape({16, 4}).is_ok());
  EXPECT_FALSE(check_shape({3, 4}).is_ok());
  EXPECT_FALSE(check_shape({32, 1}).is_ok());
  EXPECT_FALSE(check_shape({2, 0}).is_ok());
  EXPECT_FALSE(check_shape({2, kDepthMax + 1}).is_ok());
  EXPECT_FALSE(check_shape({16, 5}).is_ok());
  EXPECT_FALSE(check_shape({4, 9}).is_ok());
}

TEST(TreeShape, MemoryIsEightBytesPerNode) {
  EXPECT_EQ(tree_memory_bytes({2, 10}), 2047u * 8);
  EXPECT_EQ(tree_memory_bytes({2, 16}), 131071u * 8);  // the largest: 1 MiB
  EXPECT_EQ(tree_memory_bytes({16, 4}), 69905u * 8);
  EXPECT_LE(tree_memory_bytes({2, 16}), size_t{1} << 20);
  MerkleTree tree(kWholeRing, {4, 3});
  EXPECT_EQ(tree.memory_bytes(), tree_memory_bytes({4, 3}));
  EXPECT_EQ(tree.leaf_count(), 64u);
  EXPECT_EQ(tree.nodes_at(1), 4u);
}

// Each leaf's tokens are contiguous, map back to the leaf, and follow the previous leaf's.
void expect_leaves_tile(const TokenRange& range, TreeShape shape) {
  MerkleTree tree(range, shape);
  std::optional<Token> previous_last;
  uint32_t empty = 0;
  for (uint32_t leaf = 0; leaf < tree.leaf_count(); ++leaf) {
    const std::optional<TokenSpan> span = tree.leaf_tokens(leaf);
    if (!span) {
      ++empty;
      continue;
    }
    EXPECT_EQ(tree.leaf_of(span->first), leaf);
    EXPECT_EQ(tree.leaf_of(span->last), leaf);
    if (previous_last) {
      EXPECT_EQ(span->first, *previous_last + 1) << "leaf " << leaf;
    } else {
      EXPECT_EQ(span->first, range.start);
    }
    previous_last = span->last;
  }
  ASSERT_TRUE(previous_last.has_value());
  EXPECT_EQ(*previous_last + 1, range.end);  // the last leaf ends where the range does
  if (range.size() >= tree.leaf_count()) {
    EXPECT_EQ(empty, 0u);
  } else {
    EXPECT_EQ(tree.leaf_count() - empty, static_cast<uint32_t>(range.size()));
  }
}

TEST(MerkleTree, LeavesTileTheRange) {
  expect_leaves_tile(kWholeRing, {2, 10});
  expect_leaves_tile(kWrapping, {2, 7});
  expect_leaves_tile(TokenRange{1000, 1000 + 12345}, {16, 2});
  expect_leaves_tile(TokenRange{~uint64_t{0} - 2, 3}, {2, 4});  // 6 tokens, 16 leaves
}

TEST(MerkleTree, IncrementalUpdatesEqualARebuild) {
  for (TreeShape shape : {TreeShape{2, 8}, TreeShape{4, 4}, TreeShape{16, 2}}) {
    std::mt19937_64 rng(7);
    std::vector<Item> live = random_items(kWrapping, 2000, 1);
    MerkleTree tree(kWrapping, shape);
    for (const Item& item : live) tree.add(item.token, item.digest);
    // Updates, removes and adds, as writes and deletes do.
    for (int i = 0; i < 3000; ++i) {
      const size_t at = rng() % live.size();
      switch (rng() % 3) {
        case 0: {
          const Digest now = rng();
          tree.update(live[at].token, live[at].digest, now);
          live[at].digest = now;
          break;
        }
        case 1:
          tree.update(live[at].token, live[at].digest, std::nullopt);
          live.erase(live.begin() + static_cast<ptrdiff_t>(at));
          break;
        default: {
          const Item item = random_items(kWrapping, 1, rng())[0];
          tree.update(item.token, std::nullopt, item.digest);
          live.push_back(item);
        }
      }
    }
    MerkleTreeBuilder builder(kWrapping, shape);
    for (const Item& item : live) builder.add(item.token, item.digest);
    EXPECT_TRUE(tree == std::move(builder).finish());
  }
}

TEST(MerkleTree, InsertionOrderDoesNotMatter) {
  std::vector<Item> items = random_items(kWholeRing, 500, 2);
  MerkleTree forward(kWholeRing, {2, 6});
  for (const Item& item : items) forward.add(item.token, item.digest);
  std::reverse(items.begin(), items.end());
  std::shuffle(items.begin(), items.end(), std::mt19937_64(3));
  MerkleTree shuffled(kWholeRing, {2, 6});
  for (const Item& item : items) shuffled.add(item.token, item.digest);
  EXPECT_EQ(forward.root(), shuffled.root());
  EXPECT_TRUE(forward == shuffled);
}

TEST(MerkleTree, RemoveUndoesAddAndEqualUpdateDoesNothing) {
  MerkleTree empty(kWholeRing, {2, 5});
  MerkleTree tree(kWholeRing, {2, 5});
  tree.add(42, 7);
  EXPECT_NE(tree.root(), empty.root());
  tree.update(42, 7, 7);
  tree.remove(42, 7);
  EXPECT_TRUE(tree == empty);
  for (uint32_t leaf = 0; leaf < tree.leaf_count(); ++leaf) EXPECT_EQ(tree.node(5, leaf), 0u);
  // A digest added twice does not cancel out (a sum, not a XOR).
  tree.add(42, 7);
  tree.add(42, 7);
  EXPECT_NE(tree.root(), empty.root());
}

// The trees of two replicas that differ in one key differ in exactly the nodes on the path
// from that key's leaf to the root.
void expect_one_path(TreeShape shape, bool stale_rather_than_missing) {
  const std::vector<Item> items = random_items(kWrapping, 3000, 4);
  MerkleTree a(kWrapping, shape);
  MerkleTree b(kWrapping, shape);
  for (const Item& item : items) {
    a.add(item.token, item.digest);
    b.add(item.token, item.digest);
  }
  const Item& odd = items[1234];
  if (stale_rather_than_missing) {
    b.update(odd.token, odd.digest, odd.digest + 1);
  } else {
    b.remove(odd.token, odd.digest);
  }
  uint32_t on_path = a.leaf_of(odd.token);
  for (uint32_t level = shape.depth + 1; level-- > 0;) {
    uint32_t differing = 0;
    for (uint32_t i = 0; i < a.nodes_at(level); ++i) {
      if (a.node(level, i) != b.node(level, i)) {
        ++differing;
        EXPECT_EQ(i, on_path) << "level " << level;
      }
    }
    EXPECT_EQ(differing, 1u) << "level " << level;
    on_path /= shape.fan_out;
  }
}

TEST(MerkleTree, OneDifferingKeyDiffersOnOnePath) {
  expect_one_path({2, 12}, true);
  expect_one_path({2, 12}, false);
  expect_one_path({16, 3}, true);
  expect_one_path({8, 4}, false);
}

TEST(MerkleTree, TreesOfDifferentRangesOrShapesAreNotEqual) {
  MerkleTree a(kWholeRing, {2, 4});
  EXPECT_FALSE(a == MerkleTree(kWrapping, {2, 4}));
  EXPECT_FALSE(a == MerkleTree(kWholeRing, {4, 2}));
}

TEST(Digest, CoversKeyAndVersionsApart) {
  EXPECT_NE(digest_of("ab", "c"), digest_of("a", "bc"));
  EXPECT_NE(digest_of("a", "v1"), digest_of("a", "v2"));
  EXPECT_NE(digest_of("a", "v1"), digest_of("b", "v1"));
  EXPECT_EQ(digest_of("a", "v1"), digest_of("a", "v1"));
  EXPECT_NE(token_of("a"), token_of("b"));
}

}  // namespace
}  // namespace tessera::antientropy
