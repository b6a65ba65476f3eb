// memory_only reads and no_wait writes: an engine may refuse them (WouldBlock) but never
// answers one wrongly, and a refused write changes nothing.
#include <string>

#include "engine_fixture.h"

namespace tessera::conformance {
namespace {

using NoWait = EngineTest;

TEST_F(NoWait, AMemoryOnlyReadIsRightOrRefused) {
  for (int i = 0; i < 500; ++i) put("k" + std::to_string(i), "v" + std::to_string(i));
  for (int i = 0; i < 520; ++i) {
    const std::string key = "k" + std::to_string(i);
    Result<std::optional<Bytes>> got = engine().get(ReadOptions{.memory_only = true}, key);
    if (!got.is_ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kWouldBlock) << got.status().to_string();
      continue;
    }
    if (i < 500) {
      EXPECT_EQ(*got, "v" + std::to_string(i)) << key;
    } else {
      EXPECT_EQ(*got, std::nullopt) << key;
    }
  }
}

TEST_F(NoWait, ANoWaitWriteAppliesOrChangesNothing) {
  for (int i = 0; i < 200; ++i) {
    const std::string key = "k" + std::to_string(i);
    WriteBatch batch;
    batch.put(key, "v");
    batch.put(key + "/pair", "w");
    Status written = engine().write(WriteOptions{.no_wait = true}, batch);
    if (written.is_ok()) {
      EXPECT_EQ(get(key), "v");
      EXPECT_EQ(get(key + "/pair"), "w");
    } else {
      EXPECT_EQ(written.code(), StatusCode::kWouldBlock) << written.to_string();
      EXPECT_EQ(get(key), std::nullopt) << "a refused write left " << key;
      EXPECT_EQ(get(key + "/pair"), std::nullopt);
    }
  }
}

TEST_F(NoWait, ASyncedWriteIsRefusedNoWait) {
  Status written = engine().put(WriteOptions{.sync = true, .no_wait = true}, "k", "v");
  EXPECT_EQ(written.code(), StatusCode::kWouldBlock) << written.to_string();
  EXPECT_EQ(get("k"), std::nullopt);
}

}  // namespace
}  // namespace tessera::conformance
