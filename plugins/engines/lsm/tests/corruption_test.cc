// Flips one byte at a time in every kind of file the engine keeps and checks the outcome: the
// engine either opens and returns exactly the right data (a WAL tail may lose its last batches:
// a prefix), or reports Corruption naming the damaged file. Never a crash, never wrong data.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>

#include "db.h"
#include "test_util.h"

namespace tessera::lsm {
namespace {

LsmOptions small_options() {
  LsmOptions o;
  o.memtable_bytes_max = 64 << 10;
  o.table.block_bytes = 1024;
  o.compaction.l0_compaction_trigger = 2;
  o.compaction.level_base_bytes = 128 << 10;
  o.compaction.target_file_bytes = 32 << 10;
  o.compaction.level_size_multiplier = 4;
  return o;
}

Bytes key_of(int i) {
  char key[32];
  std::snprintf(key, sizeof(key), "key%06d", i);
  return key;
}

// Batch i puts key_of(i % 700) = "<i>..." : the state after batches [0, n) is a pure function.
std::map<Bytes, Bytes> state_after(int n) {
  std::map<Bytes, Bytes> state;
  for (int i = 0; i < n; ++i) state[key_of(i % 700)] = std::to_string(i) + Bytes(80, 'v');
  return state;
}

constexpr int kBatches = 3000;

// A directory with tables on several levels, a manifest and a WAL holding the newest batches.
void build(const fs::path& dir) {
  auto db = LsmEngine::open(dir, small_options());
  ASSERT_TRUE(db.is_ok());
  for (int i = 0; i < kBatches; ++i) {
    ASSERT_TRUE((*db)->put({}, key_of(i % 700), std::to_string(i) + Bytes(80, 'v')).is_ok());
    if (i == kBatches - 300) {
      ASSERT_TRUE((*db)->wait_for_compactions().is_ok());
    }
  }
  // Settle so that exactly one WAL (with the newest ~300 batches) remains.
  ASSERT_TRUE((*db)->wait_for_compactions().is_ok());
}

void copy_dir(const fs::path& from, const fs::path& to) {
  fs::remove_all(to);
  fs::copy(from, to);
}

Status open_and_check(const fs::path& dir, bool wal_damaged, bool* prefix_lost) {
  auto db = LsmEngine::open(dir, small_options());
  if (!db.is_ok()) return db.status();
  std::map<Bytes, Bytes> scanned;
  auto it = (*db)->new_iterator({});
  for (it->seek_to_first(); it->valid(); it->next()) scanned.emplace(it->key(), it->value());
  TESSERA_RETURN_IF_ERROR(it->status());
  std::map<Bytes, Bytes> expected = state_after(kBatches);
  if (scanned == expected) return Status::ok();
  if (wal_damaged) {
    // A torn WAL tail may lose the newest batches, never more than the WAL held.
    for (int n = kBatches - 1; n >= kBatches - 400 && n >= 0; --n) {
      if (scanned == state_after(n)) {
        *prefix_lost = true;
        return Status::ok();
      }
    }
  }
  ADD_FAILURE() << "engine opened and returned wrong data in " << dir;
  return Status::ok();
}

TEST(Corruption, EveryFileKindFlippedAtRandomOffsets) {
  testing::TempDir tmp;
  fs::path pristine = tmp.path() / "pristine";
  fs::path work = tmp.path() / "work";
  build(pristine);
  std::map<FileKind, std::vector<fs::path>> files;
  for (const auto& entry : fs::directory_iterator(pristine)) {
    uint64_t number;
    files[parse_file_name(entry.path().filename().string(), &number)].push_back(
        entry.path().filename());
  }
  ASSERT_FALSE(files[FileKind::kTable].empty());
  ASSERT_EQ(files[FileKind::kLog].size(), 1u);
  ASSERT_EQ(files[FileKind::kManifest].size(), 1u);
  std::mt19937_64 rng(7);
  std::map<FileKind, int> corruptions, clean, prefixes;
  for (FileKind kind :
       {FileKind::kTable, FileKind::kLog, FileKind::kManifest, FileKind::kCurrent}) {
    for (int round = 0; round < 25; ++round) {
      const auto& names = files[kind];
      fs::path name = names[rng() % names.size()];
      copy_dir(pristine, work);
      uint64_t size = fs::file_size(work / name);
      ASSERT_GT(size, 0u);
      uint64_t offset = rng() % size;
      {
        std::fstream f(work / name, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(offset));
        char c;
        f.get(c);
        f.seekp(static_cast<std::streamoff>(offset));
        f.put(static_cast<char>(c ^ (1 << (rng() % 8))));
      }
      bool prefix_lost = false;
      Status status = open_and_check(work, kind == FileKind::kLog, &prefix_lost);
      if (status.is_ok()) {
        (prefix_lost ? prefixes : clean)[kind]++;
        continue;
      }
      ++corruptions[kind];
      EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
      if (kind != FileKind::kCurrent) {
        EXPECT_NE(status.message().find(name.string()), std::string::npos)
            << "the message should name " << name << ": " << status.to_string();
      }
    }
  }
  // Every table and manifest byte is under a checksum: each flip is caught.
  EXPECT_EQ(corruptions[FileKind::kTable], 25);
  EXPECT_EQ(corruptions[FileKind::kManifest], 25);
  EXPECT_EQ(corruptions[FileKind::kCurrent], 25);
  EXPECT_EQ(clean[FileKind::kLog], 0);
  std::printf("log flips: %d corruption, %d torn-tail prefix\n", corruptions[FileKind::kLog],
              prefixes[FileKind::kLog]);
}

}  // namespace
}  // namespace tessera::lsm
