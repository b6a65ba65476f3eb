// The vclock plugin tested through its plugin file, the way the node uses it.
#include <gtest/gtest.h>

#include "tessera/conflict.h"
#include "tessera/plugin_loader.h"

namespace tessera {
namespace {

class VclockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PluginLoader loader({std::filesystem::path(TESSERA_VCLOCK_PLUGIN).parent_path()});
    auto made = loader.make_conflict("vclock", {"n1", {}}, {});
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    conflict_ = std::move(made).value();
  }

  Bytes write(const NodeId& node, std::vector<Bytes> context = {}) {
    auto version = conflict_->new_version(node, context);
    EXPECT_TRUE(version.is_ok()) << version.status().to_string();
    return version.is_ok() ? *version : Bytes();
  }

  VersionOrder order(const Bytes& a, const Bytes& b) {
    auto result = conflict_->compare(a, b);
    EXPECT_TRUE(result.is_ok());
    return result.is_ok() ? *result : VersionOrder::kEqual;
  }

  std::vector<Bytes> survivors(std::vector<Bytes> versions) {
    std::vector<VersionedValue> values;
    for (Bytes& v : versions) values.push_back({std::move(v), false, "x"});
    auto result = conflict_->reconcile(std::move(values));
    EXPECT_TRUE(result.is_ok());
    std::vector<Bytes> out;
    for (auto& v : *result) out.push_back(v.version);
    std::sort(out.begin(), out.end());
    return out;
  }

  PluginPtr<Conflict> conflict_;
};

TEST_F(VclockTest, AWriteThatSawAVersionSupersedesIt) {
  Bytes first = write("a");
  Bytes second = write("b", {first});
  EXPECT_EQ(order(first, second), VersionOrder::kBefore);
  EXPECT_EQ(order(second, first), VersionOrder::kAfter);
  EXPECT_EQ(order(first, first), VersionOrder::kEqual);
  EXPECT_EQ(survivors({first, second}), std::vector<Bytes>{second});
}

TEST_F(VclockTest, BlindWritesOnOneNodeBecomeSiblings) {
  Bytes first = write("a");
  Bytes blind = write("a");  // a client that read nothing
  EXPECT_EQ(order(first, blind), VersionOrder::kConcurrent);
  std::vector<Bytes> expected = {first, blind};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(survivors({first, blind}), expected);
  // A write that read both siblings resolves them.
  Bytes resolved = write("b", {first, blind});
  EXPECT_EQ(survivors({first, blind, resolved}), std::vector<Bytes>{resolved});
}

TEST_F(VclockTest, ConcurrentWritesOnTwoNodesStayUntilOneSawTheOther) {
  Bytes base = write("a");
  Bytes left = write("a", {base});
  Bytes right = write("b", {base});
  EXPECT_EQ(order(base, left), VersionOrder::kBefore);
  EXPECT_EQ(order(base, right), VersionOrder::kBefore);
  EXPECT_EQ(order(left, right), VersionOrder::kConcurrent);
  std::vector<Bytes> expected = {left, right};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(survivors({base, left, right}), expected);
  Bytes merge = write("c", {left, right});
  EXPECT_EQ(order(left, merge), VersionOrder::kBefore);
  EXPECT_EQ(order(right, merge), VersionOrder::kBefore);
}

TEST_F(VclockTest, PruningALeftNodeOnlyEverAddsSiblings) {
  Bytes by_gone = write("gone");
  Bytes after = write("a", {by_gone});
  ASSERT_EQ(order(by_gone, after), VersionOrder::kBefore);
  const std::vector<NodeId> members = {"a", "b"};
  auto pruned = conflict_->prune(after, members);
  ASSERT_TRUE(pruned.is_ok()) << pruned.status().to_string();
  EXPECT_LT(pruned->size(), after.size());
  // The dropped entry made `after` cover `by_gone`; without it the two are siblings again,
  // and a write that reads both settles them. Nothing is lost.
  EXPECT_EQ(order(by_gone, *pruned), VersionOrder::kConcurrent);
  EXPECT_EQ(order(after, *pruned), VersionOrder::kEqual);
  Bytes settled = write("b", {by_gone, *pruned});
  EXPECT_EQ(survivors({by_gone, *pruned, settled}), std::vector<Bytes>{settled});
  // Nothing to prune: the same bytes back. Garbage: refused.
  auto kept = conflict_->prune(after, std::vector<NodeId>{"a", "gone"});
  ASSERT_TRUE(kept.is_ok());
  EXPECT_EQ(*kept, after);
  EXPECT_FALSE(conflict_->prune("garbage", members).is_ok());
}

TEST_F(VclockTest, DuplicatesCollapseAndGarbageIsRefused) {
  Bytes v = write("a");
  EXPECT_EQ(survivors({v, v}), std::vector<Bytes>{v});
  EXPECT_FALSE(conflict_->compare("garbage", v).is_ok());
  EXPECT_FALSE(conflict_->new_version("a", std::vector<Bytes>{"garbage"}).is_ok());
  EXPECT_FALSE(conflict_->reconcile({{"garbage", false, ""}}).is_ok());
}

TEST_F(VclockTest, HasNoTotalOrderForAReplicatedLog) {
  Result<Bytes> ordered = conflict_->order_after(write("a"), write("b"));
  EXPECT_EQ(ordered.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(ordered.status().message().find("lww"), std::string::npos);
}

}  // namespace
}  // namespace tessera
