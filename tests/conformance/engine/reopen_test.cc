// Reopen: for durable engines (run with --durable), what was synced is there after the engine is
// destroyed and a new one opens the same data directory. Only synced data is checked: a clean
// close may flush more, but the contract promises only what sync covers.
#include <iostream>
#include <string>

#include "engine_fixture.h"
#include "random_ops.h"

namespace tessera::conformance {
namespace {

class Reopen : public EngineTest {
 protected:
  void SetUp() override {
    if (!durable()) GTEST_SKIP() << "the engine under test is not durable (no --durable)";
    EngineTest::SetUp();
  }
};

TEST_F(Reopen, SyncedPutsAndDeletesSurvive) {
  for (int i = 0; i < 200; ++i) put("k" + std::to_string(1000 + i), "v" + std::to_string(i));
  for (int i = 0; i < 200; i += 3) del("k" + std::to_string(1000 + i));
  put("k1001", "overwritten");
  ASSERT_TRUE(engine().sync().is_ok());
  KeyValues before = scan({});
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(scan({}), before);
  EXPECT_EQ(get("k1001"), "overwritten");
  EXPECT_EQ(get("k1000"), std::nullopt);
}

TEST_F(Reopen, SyncWritesSurviveWithoutExplicitSync) {
  ASSERT_TRUE(engine().put(WriteOptions{.sync = true}, "a", "1").is_ok());
  WriteBatch batch;
  batch.put("b", "2");
  batch.put("c", "3");
  batch.del("a");
  write(batch, /*sync=*/true);
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(scan({}), (KeyValues{{"b", "2"}, {"c", "3"}}));
}

TEST_F(Reopen, EdgeKeysAndLargeValuesSurvive) {
  Bytes big_key(10 * 1024, '\xff');
  Bytes big_value(1024 * 1024, '\0');
  for (size_t i = 0; i < big_value.size(); ++i) big_value[i] = static_cast<char>(i % 251);
  put("", "empty key");
  put("empty value", "");
  put(Bytes("\x00\xff\x00", 3), "binary");
  put(big_key, big_value);
  ASSERT_TRUE(engine().sync().is_ok());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(get(""), "empty key");
  EXPECT_EQ(get("empty value"), "");
  EXPECT_EQ(get(Bytes("\x00\xff\x00", 3)), "binary");
  EXPECT_TRUE(get(big_key) == big_value) << "the 1 MiB value did not survive";
}

TEST_F(Reopen, WritesAfterReopenSurviveTheNextReopen) {
  put("first", "1");
  ASSERT_TRUE(engine().sync().is_ok());
  ASSERT_NO_FATAL_FAILURE(reopen());
  put("second", "2");
  del("first");
  ASSERT_TRUE(engine().sync().is_ok());
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_NO_FATAL_FAILURE(reopen());  // a reopen with nothing new in between
  EXPECT_EQ(scan({}), (KeyValues{{"second", "2"}}));
}

TEST_F(Reopen, EmptyEngineReopensEmpty) {
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_TRUE(scan({}).empty());
  put("k", "v");
  EXPECT_EQ(get("k"), "v");
}

// Random writes with a sync and a reopen now and then; after each reopen the engine must hold
// the model exactly.
TEST_F(Reopen, RandomWritesMatchTheModelAcrossReopens) {
  constexpr int kRounds = 5;
  constexpr int kWritesPerRound = 400;
  uint64_t seed = test_seed();
  SCOPED_TRACE("TESSERA_SEED=" + std::to_string(seed));
  RandomOps ops(seed, /*keyspace=*/200);
  Model model;
  for (int round = 0; round < kRounds && !HasFailure(); ++round) {
    for (int i = 0; i < kWritesPerRound; ++i) {
      if (ops.below(4) == 0) {
        write(ops.batch(&model));
      } else if (ops.below(4) == 0) {
        Bytes key = ops.key();
        del(key);
        model.erase(key);
      } else {
        Bytes key = ops.key();
        Bytes value = ops.value();
        put(key, value);
        model[key] = value;
      }
    }
    ASSERT_TRUE(engine().sync().is_ok());
    ASSERT_NO_FATAL_FAILURE(reopen());
    EXPECT_EQ(scan({}), expected_scan(model, {})) << "after reopen " << round;
  }
  if (HasFailure()) std::cerr << "TESSERA_SEED=" << seed << "\n";
}

}  // namespace
}  // namespace tessera::conformance
