#include "metadata_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace tessera::leader {
namespace {

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-metadata-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    store_.reset();
    Result<std::unique_ptr<MetadataStore>> opened = MetadataStore::open(dir_ / "meta.db");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
  }

  // Applies `commands` as one batch at the next indexes; returns their results.
  std::vector<CommandResult> apply(std::vector<Bytes> commands) {
    std::vector<Command> batch;
    for (const Bytes& c : commands) batch.push_back(Command{++index_, c});
    std::vector<Bytes> results;
    Status status = store_->apply(batch, results);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    std::vector<CommandResult> out;
    for (const Bytes& r : results) out.push_back(decode_result(r));
    return out;
  }
  CommandResult apply1(Bytes command) { return apply({std::move(command)}).at(0); }

  void found() {
    std::vector<NodeInfo> nodes = {{"n1", "127.0.0.1:7001", "za"},
                                   {"n2", "127.0.0.1:7002", "zb"},
                                   {"n3", "127.0.0.1:7003", "zc"}};
    ASSERT_TRUE(apply1(encode_found("test-cluster", nodes)).status.is_ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<MetadataStore> store_;
  LogIndex index_ = 0;
  const std::vector<NodeId> voters_ = {"n1", "n2", "n3"};
};

TEST_F(MetadataStoreTest, FoundedOnceAndNeverAgain) {
  EXPECT_FALSE(store_->founded());
  CommandResult early = apply1(encode_create_table("t", "g", voters_));
  EXPECT_EQ(early.status.code(), StatusCode::kUnavailable) << "nothing before the founding";
  found();
  EXPECT_TRUE(store_->founded());
  CommandResult again = apply1(encode_found("other", {}));
  EXPECT_EQ(again.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(again.status.message().find("test-cluster"), std::string::npos)
      << again.status.message();
  reopen();
  EXPECT_TRUE(store_->founded()) << "the founding is on disk";
  EXPECT_EQ(store_->nodes().value().size(), 3u);
  EXPECT_EQ(store_->nodes().value()[1].zone, "zb");
}

TEST_F(MetadataStoreTest, TablesGetIdsThatAreNeverReused) {
  found();
  CommandResult a = apply1(encode_create_table("a", "ga", voters_));
  CommandResult b = apply1(encode_create_table("b", "gb", voters_));
  ASSERT_TRUE(a.status.is_ok() && b.status.is_ok());
  EXPECT_EQ(a.table_id + 1, b.table_id);
  EXPECT_NE(a.range_id, b.range_id);
  EXPECT_EQ(apply1(encode_create_table("a", "g", voters_)).status.code(), StatusCode::kTableExists);
  ASSERT_TRUE(apply1(encode_drop_table("a")).status.is_ok());
  EXPECT_EQ(apply1(encode_drop_table("a")).status.code(), StatusCode::kNoSuchTable);
  CommandResult again = apply1(encode_create_table("a", "ga2", voters_));
  ASSERT_TRUE(again.status.is_ok());
  EXPECT_GT(again.table_id, b.table_id) << "a dropped table's id is not reused";
  EXPECT_EQ(store_->table_id("a").value(), again.table_id);
  EXPECT_FALSE(store_->table_id("zzz").value().has_value());
}

TEST_F(MetadataStoreTest, ATableMayStartInSeveralRanges) {
  found();
  std::vector<TableRange> ranges = {{"", "g1", voters_}, {"m", "g2", voters_}, {"t", "g3", voters_}};
  CommandResult t = apply1(encode_create_table("t", ranges));
  ASSERT_TRUE(t.status.is_ok()) << t.status.to_string();
  RangeMap map = store_->range_map().value();
  ASSERT_EQ(map.ranges.size(), 3u);
  EXPECT_EQ(map.ranges[0].id, t.range_id);
  EXPECT_EQ(map.ranges[0].range.end, "m");
  EXPECT_EQ(map.ranges[1].range.start, "m");
  EXPECT_EQ(map.ranges[1].range.end, "t");
  EXPECT_EQ(map.ranges[2].range.end, "");
  EXPECT_EQ(map.ranges[2].group, "g3");
  EXPECT_EQ(map.ranges[2].id, t.range_id + 2);
  // Starts out of order, a repeated group: refused, nothing created.
  std::vector<TableRange> unordered = {{"", "h1", voters_}, {"t", "h2", voters_}, {"m", "h3", voters_}};
  EXPECT_EQ(apply1(encode_create_table("u", unordered)).status.code(),
            StatusCode::kInvalidArgument);
  std::vector<TableRange> same_group = {{"", "h1", voters_}, {"m", "h1", voters_}};
  EXPECT_EQ(apply1(encode_create_table("u", same_group)).status.code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->table_id("u").value().has_value());
  CommandResult next = apply1(encode_create_table("v", "g4", voters_));
  EXPECT_EQ(next.range_id, t.range_id + 3) << "range ids are not reused";
}

TEST_F(MetadataStoreTest, TheRangeMapCoversEachTableAndSplitsAtomically) {
  found();
  CommandResult t = apply1(encode_create_table("t", "g1", voters_));
  RangeMap map = store_->range_map().value();
  ASSERT_EQ(map.ranges.size(), 1u);
  EXPECT_EQ(map.ranges[0].epoch, 1u);
  EXPECT_EQ(map.ranges[0].voters, voters_);

  // A split: the left half shrinks and a new right half appears, both or neither.
  RangeDescriptor left = map.ranges[0];
  left.range.end = "m";
  left.epoch = 2;
  RangeDescriptor right = left;
  right.id = t.range_id + 1;
  right.range.start = "m";
  right.range.end = "";
  right.group = "g2";
  right.epoch = 1;
  std::vector<RangeUpdate> split = {{left, 1}, {right, 0}};
  CommandResult done = apply1(encode_put_ranges(split));
  ASSERT_TRUE(done.status.is_ok()) << done.status.to_string();
  map = store_->range_map().value();
  ASSERT_EQ(map.ranges.size(), 2u);
  EXPECT_EQ(map.ranges[1].range.start, "m");
  EXPECT_EQ(map.ranges[1].group, "g2");

  // Only the left half again: a gap. Refused, and nothing changes.
  left.range.end = "f";
  left.epoch = 3;
  std::vector<RangeUpdate> gap = {{left, 2}};
  CommandResult refused = apply1(encode_put_ranges(gap));
  EXPECT_EQ(refused.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status.message().find("gap"), std::string::npos);
  EXPECT_EQ(store_->range_map().value().ranges[0].range.end, "m");
  EXPECT_EQ(store_->range_map().value().ranges[0].epoch, 2u);
}

TEST_F(MetadataStoreTest, RangeChangesAreComparedAndSetOnTheEpoch) {
  found();
  apply1(encode_create_table("t", "g1", voters_));
  RangeDescriptor range = store_->range_map().value().ranges[0];
  range.learners = {"n4"};
  range.state = RangeState::kAddingLearner;
  range.epoch = 2;
  std::vector<RangeUpdate> stale = {{range, 5}};
  range.epoch = 6;
  stale[0].range.epoch = 6;
  CommandResult refused = apply1(encode_put_ranges(stale));
  EXPECT_EQ(refused.status.code(), StatusCode::kStaleRoute);
  EXPECT_NE(refused.status.message().find("at epoch 1"), std::string::npos);
  range.epoch = 2;
  std::vector<RangeUpdate> fresh = {{range, 1}};
  ASSERT_TRUE(apply1(encode_put_ranges(fresh)).status.is_ok());
  RangeDescriptor stored = store_->range_map().value().ranges[0];
  EXPECT_EQ(stored.state, RangeState::kAddingLearner);
  EXPECT_EQ(stored.learners, std::vector<NodeId>{"n4"});
}

TEST_F(MetadataStoreTest, TheAppliedIndexIsWrittenWithTheCommands) {
  found();
  apply({encode_create_table("a", "ga", voters_), encode_create_table("b", "gb", voters_),
         Bytes()});
  EXPECT_EQ(store_->durable_index(), index_);
  const uint64_t generation = store_->generation();
  reopen();
  EXPECT_EQ(store_->durable_index(), index_);
  EXPECT_EQ(store_->generation(), generation);
  EXPECT_EQ(store_->range_map().value().ranges.size(), 2u);
}

TEST_F(MetadataStoreTest, AMalformedCommandIsRefusedNotFatal) {
  found();
  CommandResult result = apply1("definitely not a capnp message");
  EXPECT_FALSE(result.status.is_ok());
  EXPECT_TRUE(apply1(encode_create_table("t", "g", voters_)).status.is_ok());
}

TEST_F(MetadataStoreTest, WatchersGetTheChangesAfterTheirGeneration) {
  found();
  const uint64_t start = store_->generation();
  CommandResult t = apply1(encode_create_table("t", "g1", voters_));
  apply1(encode_set_leader(t.range_id, "n2"));
  apply1(encode_set_leader(t.range_id, "n2"));  // no change, no new generation
  std::optional<RangeChanges> changes = store_->changes_since(start).value();
  ASSERT_TRUE(changes.has_value());
  EXPECT_EQ(changes->generation, start + 2);
  ASSERT_EQ(changes->changed.size(), 1u);
  EXPECT_EQ(changes->changed[0].leader, "n2");
  EXPECT_EQ(changes->changed[0].epoch, 1u) << "a new leader keeps routes valid";
  apply1(encode_drop_table("t"));
  changes = store_->changes_since(start + 2).value();
  ASSERT_TRUE(changes.has_value());
  EXPECT_EQ(changes->removed, std::vector<uint64_t>{t.range_id});
  apply1(encode_put_node(NodeInfo{"n4", "127.0.0.1:7004", "zd"}));
  EXPECT_TRUE(store_->changes_since(start + 3).value()->nodes_changed);
  EXPECT_TRUE(store_->changes_since(store_->generation()).value()->changed.empty());

  // Far behind: more changes than are kept. The watcher is told to pull the whole map.
  for (uint64_t i = 0; i < MetadataStore::kChangesKept + 1; ++i) {
    apply1(encode_put_node(NodeInfo{"n4", "127.0.0.1:" + std::to_string(8000 + i % 2), ""}));
  }
  EXPECT_FALSE(store_->changes_since(start).value().has_value());
}

// A snapshot of one replica restores another to the same state, replacing what it had.
TEST_F(MetadataStoreTest, ASnapshotRestoresAnotherReplica) {
  found();
  apply1(encode_create_table("t", "g1", voters_));
  Result<GroupStateMachine::Image> image = store_->snapshot();
  ASSERT_TRUE(image.is_ok()) << image.status().to_string();

  Result<std::unique_ptr<MetadataStore>> other = MetadataStore::open(dir_ / "other.db");
  ASSERT_TRUE(other.is_ok());
  Status restored = other.value()->restore(image.value().index, *image.value().chunks);
  ASSERT_TRUE(restored.is_ok()) << restored.to_string();
  EXPECT_TRUE(other.value()->founded());
  EXPECT_EQ(other.value()->durable_index(), image.value().index);
  EXPECT_EQ(other.value()->range_map().value().ranges.size(), 1u);
  EXPECT_EQ(other.value()->generation(), store_->generation());
  other.value().reset();
  Result<std::unique_ptr<MetadataStore>> reopened = MetadataStore::open(dir_ / "other.db");
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_EQ(reopened.value()->table_id("t").value(), store_->table_id("t").value())
      << "the restore is on disk";
}

TEST_F(MetadataStoreTest, AFileThatIsNotAMetadataDatabaseIsRefused) {
  store_.reset();
  {
    std::FILE* f = std::fopen((dir_ / "junk.db").c_str(), "w");
    std::fputs("this is not sqlite at all, just text that is long enough to look like a header",
               f);
    std::fclose(f);
  }
  Result<std::unique_ptr<MetadataStore>> opened = MetadataStore::open(dir_ / "junk.db");
  EXPECT_FALSE(opened.is_ok());
  EXPECT_NE(opened.status().message().find("junk.db"), std::string::npos)
      << opened.status().message();
}

}  // namespace
}  // namespace tessera::leader
