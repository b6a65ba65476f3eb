#include "version_set.h"

#include <gtest/gtest.h>

#include "compaction.h"
#include "memtable.h"
#include "test_util.h"

namespace tessera::lsm {
namespace {

struct Fixture {
  testing::TempDir dir;
  BlockCache cache{1 << 20};
  VersionSet versions{dir.path(), &cache};
  std::mutex engine_mutex;  // log_and_apply's precondition

  std::shared_ptr<FileMeta> table(std::vector<std::pair<Bytes, SequenceNumber>> entries) {
    auto mem = std::make_shared<MemTable>();
    for (const auto& [key, seq] : entries)
      mem->add(seq, ValueType::kValue, key, key + "@" + std::to_string(seq));
    TableEnv env;
    env.dir = dir.path();
    env.cache = &cache;
    env.new_file_number = [this] { return versions.new_file_number(); };
    auto iter = MemTable::new_iterator(mem);
    uint64_t bytes = 0;
    auto file = build_table(iter.get(), env, &bytes);
    EXPECT_TRUE(file.is_ok());
    return *file;
  }
};

TEST(VersionSet, EditsSurviveRecoveryAndGetSearchesLevelsInOrder) {
  Fixture fx;
  ASSERT_TRUE(fx.versions.recover().is_ok());
  auto old_file = fx.table({{"a", 1}, {"m", 2}});
  auto l1_left = fx.table({{"b", 3}, {"c", 3}});
  auto l1_right = fx.table({{"x", 4}, {"y", 4}});
  auto newer = fx.table({{"a", 9}});
  {
    std::lock_guard lock(fx.engine_mutex);
    VersionEdit edit;
    edit.added_files = {{0, old_file}, {1, l1_left}, {1, l1_right}};
    edit.log_number = 5;
    fx.versions.set_last_sequence(4);
    ASSERT_TRUE(fx.versions.log_and_apply(&edit).is_ok());
    VersionEdit edit2;
    edit2.added_files = {{0, newer}};
    fx.versions.set_last_sequence(9);
    ASSERT_TRUE(fx.versions.log_and_apply(&edit2).is_ok());
  }
  auto check = [](const Version& v) {
    EXPECT_EQ(v.levels[0].size(), 2u);
    EXPECT_EQ(v.levels[1].size(), 2u);
    EXPECT_EQ(v.get("a", 100)->value().value, "a@9");  // newest level-0 file first
    EXPECT_EQ(v.get("a", 5)->value().value, "a@1");
    EXPECT_EQ(v.get("y", 100)->value().value, "y@4");
    EXPECT_FALSE(v.get("d", 100)->has_value());
  };
  check(*fx.versions.current());
  // A second VersionSet on the same directory sees the same state.
  VersionSet reopened(fx.dir.path(), &fx.cache);
  ASSERT_TRUE(reopened.recover().is_ok());
  check(*reopened.current());
  EXPECT_EQ(reopened.log_number(), 5u);
  EXPECT_EQ(reopened.last_sequence(), 9u);
  // Iterating all levels merges them in order.
  std::vector<std::unique_ptr<InternalIterator>> children;
  reopened.current()->add_iterators(&children, true);
  auto merged = new_merging_iterator(std::move(children));
  std::vector<Bytes> keys;
  for (merged->seek_to_first(); merged->valid(); merged->next()) {
    keys.emplace_back(user_key_of(merged->key()));
  }
  EXPECT_EQ(keys, (std::vector<Bytes>{"a", "a", "b", "c", "m", "x", "y"}));
}

TEST(VersionSet, RemovedFilesAreDeletedWhenTheLastVersionLetsGo) {
  Fixture fx;
  ASSERT_TRUE(fx.versions.recover().is_ok());
  auto file = fx.table({{"k", 1}});
  fs::path path = file->path;
  {
    std::lock_guard lock(fx.engine_mutex);
    VersionEdit add;
    add.added_files = {{0, file}};
    ASSERT_TRUE(fx.versions.log_and_apply(&add).is_ok());
  }
  file.reset();
  auto pinned = fx.versions.current();  // a reader still holds this version
  {
    std::lock_guard lock(fx.engine_mutex);
    VersionEdit remove;
    remove.deleted_files = {{0, pinned->levels[0][0]->number}};
    ASSERT_TRUE(fx.versions.log_and_apply(&remove).is_ok());
  }
  EXPECT_TRUE(fs::exists(path));
  pinned.reset();
  EXPECT_FALSE(fs::exists(path));
}

// A manifest write that fails leaves the VersionSet as the manifest on disk has it: before the
// fix the log number moved ahead anyway, and the next (fresh) manifest recorded it without the
// failed edit's table.
TEST(VersionSet, FailedManifestWriteAppliesNothingOfTheEdit) {
  testing::TempDir dir;
  BlockCache cache{1 << 20};
  bool fail = false;
  TestHooks hooks;
  hooks.before_manifest_write = [&](const VersionEdit&) {
    return fail ? Status::io_error("injected") : Status::ok();
  };
  VersionSet versions(dir.path(), &cache, &hooks);
  std::mutex engine_mutex;
  std::lock_guard lock(engine_mutex);
  ASSERT_TRUE(versions.recover().is_ok());
  VersionEdit first;
  first.log_number = 3;
  first.last_sequence = 10;
  ASSERT_TRUE(versions.log_and_apply(&first).is_ok());
  auto before = versions.current();
  uint64_t manifest = versions.manifest_number();

  // A flush-like edit: a table, a later log number and sequence. Its record never reaches the
  // manifest.
  auto mem = std::make_shared<MemTable>();
  mem->add(11, ValueType::kValue, "k", "v");
  TableEnv env;
  env.dir = dir.path();
  env.cache = &cache;
  env.new_file_number = [&] { return versions.new_file_number(); };
  auto iter = MemTable::new_iterator(mem);
  uint64_t bytes = 0;
  auto table = build_table(iter.get(), env, &bytes);
  ASSERT_TRUE(table.is_ok());
  VersionEdit failed;
  failed.log_number = 9;
  failed.last_sequence = 11;
  failed.added_files = {{0, *table}};
  fail = true;
  bool may_be_recorded = true;
  EXPECT_EQ(versions.log_and_apply(&failed, &may_be_recorded).code(), StatusCode::kIOError);
  EXPECT_FALSE(may_be_recorded);
  EXPECT_EQ(versions.log_number(), 3u);
  EXPECT_EQ(versions.last_sequence(), 10u);
  EXPECT_EQ(versions.current(), before);
  EXPECT_EQ(versions.manifest_number(), manifest);

  // The next edit starts a fresh manifest; it must still say log 3.
  fail = false;
  VersionEdit next;
  ASSERT_TRUE(versions.log_and_apply(&next).is_ok());
  EXPECT_NE(versions.manifest_number(), manifest);
  VersionSet reopened(dir.path(), &cache);
  ASSERT_TRUE(reopened.recover().is_ok());
  EXPECT_EQ(reopened.log_number(), 3u);
  EXPECT_EQ(reopened.last_sequence(), 10u);
  EXPECT_TRUE(reopened.current()->levels[0].empty());
}

std::shared_ptr<FileMeta> meta(ByteView smallest, ByteView largest, uint64_t bytes) {
  auto f = std::make_shared<FileMeta>();
  f->smallest = make_internal_key(smallest, 1, ValueType::kValue);
  f->largest = make_internal_key(largest, 1, ValueType::kValue);
  f->file_bytes = bytes;
  return f;
}

TEST(Version, LargestRunIsADeepLevelOrDisjointLevel0Files) {
  Version v;
  EXPECT_EQ(v.largest_run_bytes(), 0u);
  // Overlapping level-0 files are separate runs.
  v.levels[0] = {meta("a", "m", 100), meta("c", "z", 120), meta("b", "d", 50)};
  EXPECT_EQ(v.largest_run_bytes(), 120u);
  // Disjoint ones add up: [a,b] + [c,d] + [e,f] beats [a,f].
  v.levels[0] = {meta("a", "f", 100), meta("a", "b", 40), meta("c", "d", 40), meta("e", "f", 40)};
  EXPECT_EQ(v.largest_run_bytes(), 120u);
  // Files that only touch at a key overlap (the key may be in both).
  v.levels[0] = {meta("a", "c", 40), meta("c", "e", 40)};
  EXPECT_EQ(v.largest_run_bytes(), 40u);
  // A level >= 1 is one run.
  v.levels[2] = {meta("a", "b", 70), meta("c", "d", 70)};
  EXPECT_EQ(v.largest_run_bytes(), 140u);
}

TEST(VersionSet, DeletingAnUnknownFileIsCorruption) {
  Version empty;
  VersionEdit edit;
  edit.deleted_files = {{2, 77}};
  EXPECT_EQ(apply_edit(empty, edit).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera::lsm
