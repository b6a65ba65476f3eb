#include "compaction.h"

#include <gtest/gtest.h>

#include "memtable.h"
#include "table_builder.h"
#include "test_util.h"

namespace tessera::lsm {
namespace {

// Writes a table with `entries` (internal key order) and returns its FileMeta.
std::shared_ptr<FileMeta> make_table(
    const TableEnv& env, std::vector<std::tuple<Bytes, SequenceNumber, ValueType>> entries) {
  auto mem = std::make_shared<MemTable>();
  for (const auto& [key, seq, type] : entries) mem->add(seq, type, key, "v" + std::to_string(seq));
  auto iter = MemTable::new_iterator(mem);
  uint64_t bytes = 0;
  auto file = build_table(iter.get(), env, &bytes);
  EXPECT_TRUE(file.is_ok());
  return *file;
}

struct Fixture {
  testing::TempDir dir;
  uint64_t next = 10;
  TableEnv env;
  Fixture() {
    env.dir = dir.path();
    env.new_file_number = [this] { return next++; };
  }
};

std::vector<std::pair<Bytes, SequenceNumber>> contents(const FileList& files) {
  std::vector<std::pair<Bytes, SequenceNumber>> out;
  for (const auto& f : files) {
    auto it = TableReader::new_iterator(f->table, false);
    for (it->seek_to_first(); it->valid(); it->next()) {
      ParsedInternalKey k;
      EXPECT_TRUE(parse_internal_key(it->key(), &k));
      out.emplace_back(Bytes(k.user_key) + (k.type == ValueType::kDeletion ? "-del" : ""),
                       k.sequence);
    }
  }
  return out;
}

TEST(Compaction, PicksLevelZeroWhenItHasTriggerFiles) {
  Fixture fx;
  auto version = std::make_shared<Version>();
  CompactionOptions options;
  options.l0_compaction_trigger = 2;
  std::array<Bytes, kNumLevels> pointers;
  version->levels[0].push_back(make_table(fx.env, {{"a", 1, ValueType::kValue}}));
  EXPECT_LT(compaction_score(*version, options), 1.0);
  EXPECT_FALSE(pick_compaction(version, options, &pointers).has_value());
  version->levels[0].push_back(make_table(fx.env, {{"b", 2, ValueType::kValue}}));
  auto c = pick_compaction(version, options, &pointers);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->level, 0);
  EXPECT_EQ(c->inputs[0].size(), 2u);
  EXPECT_FALSE(c->trivial_move());
}

TEST(Compaction, DropsShadowedVersionsAndTombstonesNoSnapshotNeeds) {
  Fixture fx;
  auto version = std::make_shared<Version>();
  // Newer file first (level 0 order): a@9 deleted, b@8 overwrite; older: a@3, b@2, c@1.
  version->levels[0].push_back(
      make_table(fx.env, {{"a", 9, ValueType::kDeletion}, {"b", 8, ValueType::kValue}}));
  version->levels[0].push_back(make_table(
      fx.env,
      {{"a", 3, ValueType::kValue}, {"b", 2, ValueType::kValue}, {"c", 1, ValueType::kValue}}));
  Compaction c;
  c.level = 0;
  c.inputs[0] = version->levels[0];
  c.version = version;
  fx.env.target_file_bytes = 1 << 20;

  // No snapshot older than the newest write: only the newest versions survive, and the
  // tombstone of "a" goes too (nothing deeper holds "a").
  VersionEdit edit;
  CompactionStats stats;
  ASSERT_TRUE(run_compaction(c, 100, fx.env, &edit, &stats).is_ok());
  FileList outputs;
  for (const auto& [level, f] : edit.added_files) outputs.push_back(f);
  EXPECT_EQ(contents(outputs), (std::vector<std::pair<Bytes, SequenceNumber>>{{"b", 8}, {"c", 1}}));
  EXPECT_EQ(edit.deleted_files.size(), 2u);

  // A snapshot at sequence 5 still needs a@3 and b@2, and so the tombstone that hides a@3.
  VersionEdit edit2;
  ASSERT_TRUE(run_compaction(c, 5, fx.env, &edit2, &stats).is_ok());
  FileList outputs2;
  for (const auto& [level, f] : edit2.added_files) outputs2.push_back(f);
  EXPECT_EQ(contents(outputs2), (std::vector<std::pair<Bytes, SequenceNumber>>{
                                    {"a-del", 9}, {"a", 3}, {"b", 8}, {"b", 2}, {"c", 1}}));
}

TEST(Compaction, KeepsTombstoneWhenADeeperLevelHoldsTheKey) {
  Fixture fx;
  auto version = std::make_shared<Version>();
  version->levels[0].push_back(make_table(fx.env, {{"a", 9, ValueType::kDeletion}}));
  version->levels[3].push_back(make_table(fx.env, {{"a", 1, ValueType::kValue}}));
  Compaction c;
  c.level = 0;
  c.inputs[0] = version->levels[0];
  c.version = version;
  VersionEdit edit;
  CompactionStats stats;
  ASSERT_TRUE(run_compaction(c, 100, fx.env, &edit, &stats).is_ok());
  ASSERT_EQ(edit.added_files.size(), 1u);
  EXPECT_EQ(contents({edit.added_files[0].second}),
            (std::vector<std::pair<Bytes, SequenceNumber>>{{"a-del", 9}}));
}

TEST(Compaction, OutputsAreCutOnlyBetweenUserKeys) {
  Fixture fx;
  auto version = std::make_shared<Version>();
  std::vector<std::tuple<Bytes, SequenceNumber, ValueType>> entries;
  for (int k = 0; k < 200; ++k) {
    for (SequenceNumber s = 1; s <= 5; ++s) {
      entries.emplace_back("key" + std::to_string(1000 + k), s * 1000 + k, ValueType::kValue);
    }
  }
  version->levels[0].push_back(make_table(fx.env, entries));
  Compaction c;
  c.level = 0;
  c.inputs[0] = version->levels[0];
  c.version = version;
  fx.env.target_file_bytes = 2048;  // many outputs
  VersionEdit edit;
  CompactionStats stats;
  ASSERT_TRUE(run_compaction(c, 0, fx.env, &edit, &stats).is_ok());  // snapshot 0: keep all
  ASSERT_GT(edit.added_files.size(), 3u);
  for (size_t i = 1; i < edit.added_files.size(); ++i) {
    EXPECT_LT(user_key_of(edit.added_files[i - 1].second->largest),
              user_key_of(edit.added_files[i].second->smallest));
  }
}

}  // namespace
}  // namespace tessera::lsm
