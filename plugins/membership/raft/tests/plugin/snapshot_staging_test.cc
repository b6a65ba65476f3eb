#include "plugin/snapshot_staging.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace tessera::raft_plugin {
namespace {
namespace fs = std::filesystem;

class SnapshotStagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tessera-staging-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto staging = SnapshotStaging::open(dir_);
    ASSERT_TRUE(staging.is_ok()) << staging.status().to_string();
    staging_ = std::move(staging).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void stage(uint64_t group, uint64_t index, const std::vector<std::string>& chunks) {
    auto writer = staging_->begin(group, index);
    ASSERT_TRUE(writer.is_ok());
    for (const std::string& c : chunks) ASSERT_TRUE((*writer)->append(c).is_ok());
    ASSERT_TRUE((*writer)->finish().is_ok());
  }

  std::vector<std::string> read_all(uint64_t group, uint64_t index) {
    auto chunks = staging_->read(group, index);
    EXPECT_TRUE(chunks.is_ok()) << chunks.status().to_string();
    std::vector<std::string> out;
    if (!chunks.is_ok()) return out;
    while (true) {
      auto next = (*chunks)->next();
      EXPECT_TRUE(next.is_ok()) << next.status().to_string();
      if (!next.is_ok() || !next->has_value()) break;
      out.push_back(**next);
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<SnapshotStaging> staging_;
};

TEST_F(SnapshotStagingTest, ChunksComeBackInOrder) {
  stage(7, 42, {"alpha", "", std::string(100000, 'x'), "omega"});
  EXPECT_EQ(read_all(7, 42),
            (std::vector<std::string>{"alpha", "", std::string(100000, 'x'), "omega"}));
  EXPECT_EQ(staging_->staged_index(7), 42u);
  EXPECT_EQ(staging_->staged_index(8), std::nullopt);
}

TEST_F(SnapshotStagingTest, AnUnfinishedImageIsNotStaged) {
  {
    auto writer = staging_->begin(1, 10);
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->append("partial").is_ok());
  }
  EXPECT_EQ(staging_->staged_index(1), std::nullopt);
  EXPECT_EQ(staging_->read(1, 10).status().code(), StatusCode::kNotFound);
}

TEST_F(SnapshotStagingTest, AFlippedByteIsCorruption) {
  stage(2, 5, {"some bytes of the image"});
  const fs::path file = dir_ / "2-5.snap";
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.put('#');
  }
  auto chunks = staging_->read(2, 5);
  ASSERT_TRUE(chunks.is_ok());
  EXPECT_EQ((*chunks)->next().status().code(), StatusCode::kCorruption);
}

TEST_F(SnapshotStagingTest, ACutFileIsCorruption) {
  stage(3, 9, {"0123456789"});
  fs::resize_file(dir_ / "3-9.snap", 14);
  auto chunks = staging_->read(3, 9);
  ASSERT_TRUE(chunks.is_ok());
  EXPECT_EQ((*chunks)->next().status().code(), StatusCode::kCorruption);
}

TEST_F(SnapshotStagingTest, OversizedChunkIsRefused) {
  auto writer = staging_->begin(4, 1);
  ASSERT_TRUE(writer.is_ok());
  EXPECT_EQ((*writer)->append(std::string(SnapshotStaging::kChunkBytesMax + 1, 'z')).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(SnapshotStagingTest, RemoveUpToKeepsNewerImages) {
  stage(5, 10, {"a"});
  stage(5, 20, {"b"});
  stage(6, 5, {"c"});
  staging_->remove_up_to(5, 10);
  EXPECT_EQ(staging_->staged_index(5), 20u);
  EXPECT_EQ(staging_->staged_index(6), 5u);
}

TEST_F(SnapshotStagingTest, ReopenDropsPartFiles) {
  { std::ofstream(dir_ / "9-1.part") << "junk"; }
  auto staging = SnapshotStaging::open(dir_);
  ASSERT_TRUE(staging.is_ok());
  EXPECT_FALSE(fs::exists(dir_ / "9-1.part"));
}

}  // namespace
}  // namespace tessera::raft_plugin
