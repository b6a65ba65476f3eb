#include "block.h"

#include <gtest/gtest.h>

#include <map>

#include "block_builder.h"
#include "bloom.h"
#include "format.h"

namespace tessera::lsm {
namespace {

std::map<Bytes, Bytes, std::function<bool(const Bytes&, const Bytes&)>> sorted_entries(int n) {
  std::map<Bytes, Bytes, std::function<bool(const Bytes&, const Bytes&)>> entries(
      [](const Bytes& a, const Bytes& b) { return compare_internal_keys(a, b) < 0; });
  for (int i = 0; i < n; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "key%06d", i * 3);
    entries[make_internal_key(key, 100 - i % 7, ValueType::kValue)] = "value" + std::to_string(i);
  }
  return entries;
}

TEST(Block, BuildAndIterateWithEveryRestartInterval) {
  for (int interval : {1, 2, 16, 1000}) {
    auto entries = sorted_entries(500);
    BlockBuilder builder(interval);
    for (const auto& [k, v] : entries) builder.add(k, v);
    auto block = Block::parse(Bytes(builder.finish()), "test");
    ASSERT_TRUE(block.is_ok());
    auto it = Block::new_iterator(*block);
    it->seek_to_first();
    for (const auto& [k, v] : entries) {
      ASSERT_TRUE(it->valid());
      EXPECT_EQ(it->key(), k);
      EXPECT_EQ(it->value(), v);
      it->next();
    }
    EXPECT_FALSE(it->valid());
    EXPECT_TRUE(it->status().is_ok());
    // Seek to every key and to keys in between.
    for (int i = 0; i < 1500; i += 1) {
      char key[32];
      std::snprintf(key, sizeof(key), "key%06d", i);
      Bytes target = make_internal_key(key, kSequenceMax, kValueTypeForSeek);
      it->seek(target);
      auto expected = entries.lower_bound(target);
      if (expected == entries.end()) {
        EXPECT_FALSE(it->valid());
      } else {
        ASSERT_TRUE(it->valid()) << i;
        EXPECT_EQ(it->key(), expected->first);
      }
    }
  }
}

TEST(Block, GarbageIsCorruptionNotACrash) {
  EXPECT_EQ(Block::parse("ab", "t").status().code(), StatusCode::kCorruption);
  Bytes bogus(64, '\xff');
  auto block = Block::parse(bogus, "t");
  if (block.is_ok()) {
    auto it = Block::new_iterator(*block);
    it->seek_to_first();
    EXPECT_FALSE(it->valid());
  }
  // A valid restart array over garbage entries.
  Bytes garbage(40, '\x7f');
  put_fixed32_le(&garbage, 0);
  put_fixed32_le(&garbage, 1);
  auto parsed = Block::parse(garbage, "t");
  ASSERT_TRUE(parsed.is_ok());
  auto it = Block::new_iterator(*parsed);
  it->seek_to_first();
  EXPECT_FALSE(it->valid());
  EXPECT_EQ(it->status().code(), StatusCode::kCorruption);
}

TEST(Bloom, NoFalseNegativesAndFewFalsePositives) {
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 10000; ++i) hashes.push_back(bloom::hash_key("k" + std::to_string(i)));
  Bytes filter = bloom::build(hashes, 10);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(bloom::may_contain(filter, bloom::hash_key("k" + std::to_string(i))));
  }
  int false_positives = 0;
  for (int i = 0; i < 10000; ++i) {
    false_positives += bloom::may_contain(filter, bloom::hash_key("absent" + std::to_string(i)));
  }
  EXPECT_LT(false_positives, 250);  // ~1% expected at 10 bits per key
}

}  // namespace
}  // namespace tessera::lsm
