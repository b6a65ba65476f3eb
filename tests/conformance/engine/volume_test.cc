// Enough data to push an engine past its in-memory buffers: a few MiB of inserts, overwrites and
// deletes with a snapshot held across them. Registered with a small write buffer in its config
// (CONFIG of tessera_add_engine_conformance_test), an engine flushes and compacts while this runs.
#include <string>

#include "engine_fixture.h"

namespace tessera::conformance {
namespace {

constexpr int kKeys = 20000;
constexpr int kBatchOps = 100;
constexpr size_t kValueBytes = 200;

Bytes volume_key(int i) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "vol/%07d", i);
  return buffer;
}

// A value that names its key and round, padded to kValueBytes.
Bytes volume_value(int i, int round) {
  Bytes value = std::to_string(i) + "@" + std::to_string(round) + ":";
  value.resize(kValueBytes, static_cast<char>('a' + (i + round) % 26));
  return value;
}

using Volume = EngineTest;

TEST_F(Volume, ManyKeysOverwritesAndDeletes) {
  Model model;
  WriteBatch batch;
  auto flush_batch = [&] {
    if (!batch.empty()) write(batch);
    batch.clear();
  };
  // Round 1: every key once, in a scattered order (7919 is prime, so i * 7919 % kKeys visits all).
  for (int n = 0; n < kKeys && !HasFailure(); ++n) {
    int i = static_cast<int>((static_cast<int64_t>(n) * 7919) % kKeys);
    batch.put(volume_key(i), volume_value(i, 1));
    model[volume_key(i)] = volume_value(i, 1);
    if (batch.count() == kBatchOps) flush_batch();
  }
  flush_batch();
  std::unique_ptr<Snapshot> after_round_one = engine().snapshot();
  Model model_one = model;

  // Round 2: overwrite every third key, delete every fifth.
  for (int i = 0; i < kKeys && !HasFailure(); ++i) {
    if (i % 5 == 0) {
      batch.del(volume_key(i));
      model.erase(volume_key(i));
    } else if (i % 3 == 0) {
      batch.put(volume_key(i), volume_value(i, 2));
      model[volume_key(i)] = volume_value(i, 2);
    }
    if (batch.count() == kBatchOps) flush_batch();
  }
  flush_batch();
  ASSERT_TRUE(engine().sync().is_ok());

  EXPECT_TRUE(scan({}) == expected_scan(model, {})) << "the latest state after round 2";
  EXPECT_TRUE(scan({.snapshot = after_round_one.get()}) == expected_scan(model_one, {}))
      << "the snapshot taken after round 1";
  for (int i = 0; i < kKeys; i += 97) {
    auto it = model.find(volume_key(i));
    std::optional<Bytes> expected;
    if (it != model.end()) expected = it->second;
    EXPECT_EQ(get(volume_key(i)), expected) << volume_key(i);
    EXPECT_EQ(get(volume_key(i), after_round_one.get()), volume_value(i, 1)) << volume_key(i);
  }
  KeyValues middle = scan({.start = volume_key(10000), .upper_bound = volume_key(10100)});
  EXPECT_TRUE(middle ==
              expected_scan(model, {.start = volume_key(10000), .upper_bound = volume_key(10100)}));
  after_round_one.reset();

  if (durable()) {
    ASSERT_NO_FATAL_FAILURE(reopen());
    EXPECT_TRUE(scan({}) == expected_scan(model, {})) << "after reopen";
  }
}

}  // namespace
}  // namespace tessera::conformance
