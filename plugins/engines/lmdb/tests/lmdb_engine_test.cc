// The lmdb adapter under reader-slot exhaustion: snapshot() has no error path, so a snapshot
// taken when every reader slot is held must fail through its reads (Busy, naming the limit)
// rather than stop the process; releasing a slot makes snapshots work again.
// And the unsafe_nosync config key: it opens with MDB_NOSYNC, and what it keeps (synced and
// unsynced writes survive a process crash) still holds.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "tessera/config.h"
#include "tessera/engine.h"
#include "tessera/plugin_loader.h"
#include "tessera/testing/temp_dir.h"

namespace tessera {
namespace {

constexpr int kMaxReaders = 2;

// The lmdb plugin's engine over `dir`, with the config section `toml`.
Result<PluginPtr<Engine>> open_lmdb(const std::filesystem::path& dir, const std::string& toml) {
  TESSERA_ASSIGN_OR_RETURN(auto config, ConfigFile::parse(toml, "test.toml"));
  std::filesystem::path plugin = TESSERA_LMDB_PLUGIN;
  PluginLoader loader({plugin.parent_path()});
  PluginContext context{.node_id = "lmdb-test", .data_dir = dir};
  return loader.make_engine(plugin.string(), context, config->root());
}

std::string key_of(int i) { return "key" + std::to_string(i); }

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

TEST(LmdbUnsafeNosync, DefaultIsSafeAndTheKeyOpensWithMdbNosync) {
  testing::TempDir safe_dir{"tessera-lmdb"};
  auto safe = open_lmdb(safe_dir.path(), "");
  ASSERT_TRUE(safe.is_ok()) << safe.status().to_string();
  EXPECT_EQ((*safe)->stats()["unsafe_nosync"], 0);
  testing::TempDir unsafe_dir{"tessera-lmdb"};
  auto unsafe = open_lmdb(unsafe_dir.path(), "unsafe_nosync = true");
  ASSERT_TRUE(unsafe.is_ok()) << unsafe.status().to_string();
  EXPECT_EQ((*unsafe)->stats()["unsafe_nosync"], 1);
  auto wrong_type = open_lmdb(unsafe_dir.path(), "unsafe_nosync = 1");
  ASSERT_FALSE(wrong_type.is_ok());
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
}

// A child process writes (unsynced, then one synced write, then unsynced again) and exits
// without closing the engine: the pages are in the page cache, so a process crash loses nothing.
TEST(LmdbUnsafeNosync, WritesSurviveAProcessCrash) {
  constexpr int kKeys = 300;
  testing::TempDir dir{"tessera-lmdb"};
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto engine = open_lmdb(dir.path(), "unsafe_nosync = true");
    if (!engine.is_ok()) ::_exit(10);
    for (int i = 0; i < kKeys; ++i) {
      WriteOptions options{.sync = i == kKeys / 2};
      if (!(*engine)->put(options, key_of(i), "v" + std::to_string(i)).is_ok()) ::_exit(11);
    }
    ::_exit(0);  // no destructor, no mdb_env_sync, no mdb_env_close
  }
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  ASSERT_EQ(WEXITSTATUS(wait_status), 0);

  auto engine = open_lmdb(dir.path(), "unsafe_nosync = true");
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  for (int i = 0; i < kKeys; ++i) {
    auto value = (*engine)->get(ReadOptions{}, key_of(i));
    ASSERT_TRUE(value.is_ok()) << value.status().to_string();
    EXPECT_EQ(*value, std::optional<Bytes>("v" + std::to_string(i))) << key_of(i);
  }
  ASSERT_TRUE((*engine)->sync().is_ok());
}

}  // namespace
}  // namespace tessera
