// Damaged bytes on disk become Corruption naming the file and page, never a crash or wrong
// data; a torn meta page falls back to the previous checkpoint.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "btree_engine.h"
#include "meta.h"
#include "test_util.h"

namespace tessera::btree {
namespace {

constexpr size_t kPage = 512;

class Corruption : public ::testing::Test {
 protected:
  void SetUp() override { options_.page_bytes = kPage; }
  std::filesystem::path file() const { return dir_.path() / "btree.db"; }
  Result<std::unique_ptr<BtreeEngine>> open() { return BtreeEngine::open(dir_.path(), options_); }

  void fill(int keys, size_t value_bytes) {
    auto engine = open();
    ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
    WriteBatch batch;
    for (int i = 0; i < keys; ++i) batch.put("k" + std::to_string(1000 + i), std::string(value_bytes, 'v'));
    ASSERT_TRUE((*engine)->write(WriteOptions{.sync = true}, batch).is_ok());
  }
  void flip_byte(uint64_t offset) {
    int fd = ::open(file().c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char c;
    ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1);
    c ^= 0x40;
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
    ::close(fd);
  }
  PageId root_page() {
    auto pf = PageFile::open(file(), kPage);
    EXPECT_TRUE(pf.is_ok());
    auto meta = load_newest_meta(**pf);
    EXPECT_TRUE(meta.is_ok());
    return meta->root;
  }

  testing::TempDir dir_;
  BtreeOptions options_;
};

TEST_F(Corruption, DamagedNodePageIsReportedAtOpen) {
  fill(200, 20);
  PageId root = root_page();
  flip_byte(uint64_t{root} * kPage + 200);
  auto engine = open();
  ASSERT_FALSE(engine.is_ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kCorruption);
  std::string expect = file().string() + ": page " + std::to_string(root);
  EXPECT_NE(engine.status().message().find(expect), std::string::npos)
      << engine.status().message();
}

TEST_F(Corruption, DamagedOverflowPageIsReportedAtOpen) {
  fill(1, 3000);  // one value in a chain of 7 pages
  flip_byte(uint64_t{kFirstDataPage} * kPage + 100);  // the first chain page written
  auto engine = open();
  ASSERT_FALSE(engine.is_ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kCorruption) << engine.status().to_string();
}

TEST_F(Corruption, DamagedPageFoundWhileRunningFailsTheRead) {
  options_.buffer_pool_bytes_max = 16 * kPage;  // far fewer frames than the tree has pages
  auto engine = open();
  ASSERT_TRUE(engine.is_ok());
  WriteBatch batch;
  for (int i = 0; i < 2000; ++i) batch.put("k" + std::to_string(10000 + i), std::string(20, 'v'));
  ASSERT_TRUE((*engine)->write(WriteOptions{.sync = true}, batch).is_ok());
  uint64_t pages = static_cast<uint64_t>((*engine)->stats()["pages"]);
  ASSERT_GT(pages, 40u);
  // Damage every data page behind the engine's back: whatever the pool has to read is bad.
  for (uint64_t id = kFirstDataPage; id < pages; ++id) flip_byte(id * kPage + 64);
  auto it = (*engine)->new_iterator({});
  size_t seen = 0;
  for (it->seek_to_first(); it->valid(); it->next()) ++seen;
  EXPECT_LT(seen, 2000u);
  EXPECT_EQ(it->status().code(), StatusCode::kCorruption) << it->status().to_string();
  EXPECT_NE(it->status().message().find(file().string() + ": page "), std::string::npos);
  it.reset();
  size_t failed = 0;
  for (int i = 0; i < 2000; i += 10) {
    auto got = (*engine)->get({}, "k" + std::to_string(10000 + i));
    if (!got.is_ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
      ++failed;
    } else if (got->has_value()) {
      EXPECT_EQ(**got, std::string(20, 'v')) << "a read either fails or is right";
    }
  }
  EXPECT_GT(failed, 0u);
}

TEST_F(Corruption, TornMetaFallsBackToThePreviousCheckpoint) {
  auto engine = open();
  ASSERT_TRUE(engine.is_ok());
  ASSERT_TRUE((*engine)->put(WriteOptions{.sync = true}, "a", "1").is_ok());
  ASSERT_TRUE((*engine)->put(WriteOptions{.sync = true}, "b", "2").is_ok());
  auto last = static_cast<uint64_t>((*engine)->stats()["durable_txn"]);
  engine->reset();
  flip_byte(meta_slot(last) * kPage + 100);  // tear the meta of the last checkpoint
  engine = open();
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  auto a = (*engine)->get({}, "a");
  auto b = (*engine)->get({}, "b");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->value_or("-"), "1");
  EXPECT_EQ(b->value_or("-"), "-") << "the last meta is gone, so is its write";
}

TEST_F(Corruption, BothMetasDamagedIsCorruptionNotAnEmptyStore) {
  fill(10, 10);
  flip_byte(100);
  flip_byte(kPage + 100);
  auto engine = open();
  ASSERT_FALSE(engine.is_ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kCorruption);
  EXPECT_NE(engine.status().message().find("no valid meta page"), std::string::npos);
}

}  // namespace
}  // namespace tessera::btree
