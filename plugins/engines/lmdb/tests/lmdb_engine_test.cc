// The lmdb adapter under reader-slot exhaustion: snapshot() has no error path, so a snapshot
// taken when every reader slot is held must fail through its reads (Busy, naming the limit)
// rather than stop the process; releasing a slot makes snapshots work again.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tessera/config.h"
#include "tessera/engine.h"
#include "tessera/plugin_loader.h"
#include "tessera/testing/temp_dir.h"

namespace tessera {
namespace {

constexpr int kMaxReaders = 2;

class LmdbEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ConfigFile::parse("max_readers = " + std::to_string(kMaxReaders), "test.toml");
    ASSERT_TRUE(config.is_ok()) << config.status().to_string();
    config_ = std::move(config).value();
    std::filesystem::path plugin = TESSERA_LMDB_PLUGIN;
    PluginLoader loader({plugin.parent_path()});
    PluginContext context{.node_id = "lmdb-test", .data_dir = dir_.path()};
    auto engine = loader.make_engine(plugin.string(), context, config_->root());
    ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
    engine_ = std::move(engine).value();
  }
  void TearDown() override { engine_.reset(); }

  testing::TempDir dir_{"tessera-lmdb"};
  std::unique_ptr<ConfigFile> config_;
  PluginPtr<Engine> engine_;
};

TEST_F(LmdbEngineTest, SnapshotWithoutAReaderSlotFailsItsReadsWithBusy) {
  ASSERT_TRUE(engine_->put(WriteOptions{.sync = true}, "k", "v1").is_ok());
  std::vector<std::unique_ptr<Snapshot>> held;
  for (int i = 0; i < kMaxReaders; ++i) held.push_back(engine_->snapshot());
  for (const auto& snapshot : held) {
    auto value = engine_->get(ReadOptions{.snapshot = snapshot.get()}, "k");
    ASSERT_TRUE(value.is_ok()) << value.status().to_string();
    EXPECT_EQ(*value, std::optional<Bytes>("v1"));
  }

  std::unique_ptr<Snapshot> failed = engine_->snapshot();  // no slot left: must not abort
  ASSERT_NE(failed, nullptr);
  auto value = engine_->get(ReadOptions{.snapshot = failed.get()}, "k");
  ASSERT_FALSE(value.is_ok());
  EXPECT_EQ(value.status().code(), StatusCode::kBusy) << value.status().to_string();
  EXPECT_NE(value.status().to_string().find("max_readers"), std::string::npos)
      << value.status().to_string();
  IteratorOptions at_failed;
  at_failed.snapshot = failed.get();
  auto it = engine_->new_iterator(at_failed);
  it->seek_to_first();
  EXPECT_FALSE(it->valid());
  EXPECT_EQ(it->status().code(), StatusCode::kBusy) << it->status().to_string();
  // A read without a snapshot needs a slot too, and says so the same way.
  EXPECT_EQ(engine_->get(ReadOptions{}, "k").status().code(), StatusCode::kBusy);
  // Writes need no reader slot.
  ASSERT_TRUE(engine_->put(WriteOptions{}, "k", "v2").is_ok());
  failed.reset();

  held.pop_back();  // frees a slot
  std::unique_ptr<Snapshot> again = engine_->snapshot();
  value = engine_->get(ReadOptions{.snapshot = again.get()}, "k");
  ASSERT_TRUE(value.is_ok()) << value.status().to_string();
  EXPECT_EQ(*value, std::optional<Bytes>("v2"));
  value = engine_->get(ReadOptions{.snapshot = held.front().get()}, "k");
  ASSERT_TRUE(value.is_ok()) << value.status().to_string();
  EXPECT_EQ(*value, std::optional<Bytes>("v1")) << "an old snapshot keeps its view";
}

}  // namespace
}  // namespace tessera
