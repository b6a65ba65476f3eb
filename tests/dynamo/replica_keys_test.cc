// ReplicaKeys: the trees and leaf reads anti-entropy makes from a node's store.
#include "tessera/dynamo/replica_keys.h"

#include <gtest/gtest.h>

#include <set>

#include "../node/local_store_fixture.h"

namespace tessera::dynamo {
namespace {

// Keys starting with "shared" are owned by n1 and n2, the others by n1 and n3.
class TwoWayPlacement final : public Placement {
 public:
  Result<std::vector<RangeMove>> set_members(std::span<const NodeInfo>) override {
    return std::vector<RangeMove>{};
  }
  Result<Location> locate(ByteView, ByteView key) const override {
    Location location;
    location.owners = 2;
    location.replicas = key.starts_with("shared") ? std::vector<NodeId>{"n1", "n2"}
                                                  : std::vector<NodeId>{"n1", "n3"};
    return location;
  }
};

class ReplicaKeysTest : public node::LocalStoreTest {
 protected:
  void SetUp() override {
    node::LocalStoreTest::SetUp();
    ASSERT_TRUE(store_->create_table("t").is_ok());
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(store_->put("t", "shared" + std::to_string(i), "v", {}).is_ok());
      ASSERT_TRUE(store_->put("t", "other" + std::to_string(i), "v", {}).is_ok());
    }
  }
  ReplicaView view() { return ReplicaView{store_.get(), &placement_, "n1"}; }

  TwoWayPlacement placement_;
};

TEST_F(ReplicaKeysTest, ATreeHoldsOnlyTheKeysBothNodesOwn) {
  auto with_n2 = build_co_owned_tree(view(), "n2", {16, 2});
  ASSERT_TRUE(with_n2.is_ok()) << with_n2.status().to_string();
  EXPECT_EQ(with_n2->keys, 300u);
  auto with_n3 = build_co_owned_tree(view(), "n3", {16, 2});
  ASSERT_TRUE(with_n3.is_ok());
  EXPECT_EQ(with_n3->keys, 300u);
  EXPECT_NE(with_n2->tree.root(), with_n3->tree.root());
  EXPECT_EQ(build_co_owned_tree(view(), "n4", {16, 2})->keys, 0u);
  // The same keys give the same tree; a changed value changes it.
  EXPECT_EQ(build_co_owned_tree(view(), "n2", {16, 2})->tree, with_n2->tree);
  ASSERT_TRUE(store_->put("t", "shared7", "changed", {}).is_ok());
  EXPECT_NE(build_co_owned_tree(view(), "n2", {16, 2})->tree, with_n2->tree);
  EXPECT_EQ(build_co_owned_tree(view(), "n3", {16, 2})->tree, with_n3->tree);
}

TEST_F(ReplicaKeysTest, ALeafReadKeepsTheFirstEntriesInOrderAndSaysMoreRemain) {
  auto built = build_co_owned_tree(view(), "n2", {16, 1});
  ASSERT_TRUE(built.is_ok());
  antientropy::ReadLeafEntries read;
  for (uint32_t leaf = 0; leaf < 16; ++leaf) read.leaves.push_back(leaf);
  read.entries_max = 100;
  std::set<Bytes> seen;
  std::optional<antientropy::EntryPosition> after;
  size_t pages = 0;
  for (;;) {
    read.after = after;
    auto page = read_co_owned_leaves(view(), "n2", built->tree, read);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    ++pages;
    for (size_t i = 1; i < page->entries.size(); ++i) {
      ASSERT_LT(page->entries[i - 1].token, page->entries[i].token) << "entries out of order";
    }
    for (const auto& entry : page->entries) {
      std::string table;
      Bytes key;
      ASSERT_TRUE(split_host_key(entry.key, &table, &key));
      EXPECT_EQ(table, "t");
      EXPECT_TRUE(key.starts_with("shared"));
      EXPECT_TRUE(seen.insert(entry.key).second) << "listed twice";
    }
    if (!page->truncated) break;
    after = antientropy::position_of(page->entries.back());
  }
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_EQ(pages, 3u);
}

TEST_F(ReplicaKeysTest, DigestsIgnoreTheOrderVersionsAreKeptIn) {
  const VersionedValue a{"v1", false, "x"};
  const VersionedValue b{"v2", true, "y"};
  EXPECT_EQ(digest_of_versions("k", {a, b}), digest_of_versions("k", {b, a}));
  EXPECT_NE(digest_of_versions("k", {a}), digest_of_versions("k", {a, b}));
  EXPECT_NE(digest_of_versions("k", {a}), digest_of_versions("j", {a}));
  EXPECT_EQ(shape_for(0), (antientropy::TreeShape{16, 1}));
  EXPECT_EQ(shape_for(16 * 512 + 1), (antientropy::TreeShape{16, 2}));
  EXPECT_EQ(shape_for(100'000'000), (antientropy::TreeShape{16, 4}));
}

}  // namespace
}  // namespace tessera::dynamo
