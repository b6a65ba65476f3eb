// Point operations, edge-case keys and values, and the small calls (sync, sizes, stats).
#include <cmath>
#include <string>

#include "engine_fixture.h"

namespace tessera::conformance {
namespace {

using PointOps = EngineTest;

TEST_F(PointOps, GetOfMissingKeyIsNulloptNotAnError) {
  Result<std::optional<Bytes>> value = engine().get(ReadOptions{}, "missing");
  ASSERT_TRUE(value.is_ok()) << value.status().to_string();
  EXPECT_FALSE(value->has_value());
}

TEST_F(PointOps, PutThenGet) {
  put("apple", "red");
  put("banana", "yellow");
  EXPECT_EQ(get("apple"), "red");
  EXPECT_EQ(get("banana"), "yellow");
  EXPECT_EQ(get("cherry"), std::nullopt);
}

TEST_F(PointOps, OverwriteReplacesTheValue) {
  put("k", "one");
  put("k", "two");
  EXPECT_EQ(get("k"), "two");
  put("k", "a much longer third value than the ones before");
  EXPECT_EQ(get("k"), "a much longer third value than the ones before");
  EXPECT_EQ(scan({}).size(), 1u) << "an overwrite must not leave a second entry";
}

TEST_F(PointOps, DeleteRemovesAndPutAfterDeleteRestores) {
  put("k", "v");
  del("k");
  EXPECT_EQ(get("k"), std::nullopt);
  EXPECT_TRUE(scan({}).empty());
  put("k", "again");
  EXPECT_EQ(get("k"), "again");
}

TEST_F(PointOps, DeleteOfMissingKeyIsOk) {
  EXPECT_TRUE(engine().del(WriteOptions{}, "never-written").is_ok());
  put("k", "v");
  del("k");
  EXPECT_TRUE(engine().del(WriteOptions{}, "k").is_ok()) << "a second delete is not an error";
  EXPECT_EQ(get("k"), std::nullopt);
}

TEST_F(PointOps, SyncWriteIsVisible) {
  ASSERT_TRUE(engine().put(WriteOptions{.sync = true}, "k", "v").is_ok());
  EXPECT_EQ(get("k"), "v");
}

TEST_F(PointOps, EmptyKeyAndEmptyValue) {
  put("", "value of the empty key");
  put("empty-value", "");
  EXPECT_EQ(get(""), "value of the empty key");
  std::optional<Bytes> empty = get("empty-value");
  ASSERT_TRUE(empty.has_value()) << "an empty value is a value, not absence";
  EXPECT_EQ(*empty, "");
  EXPECT_EQ(scan({}), (KeyValues{{"", "value of the empty key"}, {"empty-value", ""}}));
  del("");
  EXPECT_EQ(get(""), std::nullopt);
}

TEST_F(PointOps, LargeKeyAndLargeValue) {
  constexpr size_t kKeyBytes = 10 * 1024;
  constexpr size_t kValueBytes = 1024 * 1024;
  Bytes key(kKeyBytes, '\0');
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(i * 7 + 3);
  Bytes value(kValueBytes, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 13 + i / 4096);
  put(key, value);
  put("small", "s");
  std::optional<Bytes> got = get(key);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(*got == value) << "1 MiB value came back as " << printable(*got);
  KeyValues all = scan({});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].first == key && all[0].second == value);
  // A second large value on a neighbouring key must not disturb the first.
  Bytes key2 = key;
  key2.back() = static_cast<char>(key2.back() + 1);
  put(key2, Bytes(kValueBytes, 'x'));
  EXPECT_TRUE(get(key) == value);
  EXPECT_EQ(get(key2).value_or("").size(), kValueBytes);
}

TEST_F(PointOps, KeyAndValueOfTheLargestSizesANodeCanHandOver) {
  Bytes key(kEngineKeyBytesMax, '\0');
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(i * 11 + 5);
  Bytes value(kEngineValueBytesMax, '\0');
  for (size_t i = 0; i < value.size(); i += 512) value[i] = static_cast<char>(i / 512);
  put(key, value);
  std::optional<Bytes> got = get(key);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(*got == value) << "a value of " << value.size() << " bytes came back as "
                             << got->size() << " bytes";
  del(key);
  EXPECT_EQ(get(key), std::nullopt);
}

TEST_F(PointOps, KeysOrderByUnsignedBytes) {
  // Inserted out of order; 0x80 and above must sort after 0x7f (unsigned), and a prefix before
  // its extensions.
  // clang-format off
  const std::vector<Bytes> sorted = {
      Bytes(""),           Bytes("\x00", 1),     Bytes("\x00\x00", 2), Bytes("\x00\xff", 2),
      Bytes("\x01"),       Bytes("a"),           Bytes("a\x00", 2),    Bytes("a\xff"),
      Bytes("\x7f"),       Bytes("\x80"),        Bytes("\xfe"),        Bytes("\xff"),
      Bytes("\xff\x00", 2), Bytes("\xff\xff"),   Bytes("\xff\xff\xff")};
  // clang-format on
  for (size_t i = 0; i < sorted.size(); ++i) {
    size_t j = (i * 7) % sorted.size();  // 7 is coprime with 15: a permutation
    put(sorted[j], "v" + std::to_string(j));
  }
  KeyValues all = scan({});
  ASSERT_EQ(all.size(), sorted.size()) << printable(all);
  for (size_t i = 0; i < sorted.size(); ++i) {
    EXPECT_EQ(all[i].first, sorted[i]) << "position " << i << ": " << printable(all);
    EXPECT_EQ(all[i].second, "v" + std::to_string(i));
    EXPECT_EQ(get(sorted[i]), "v" + std::to_string(i)) << printable(sorted[i]);
  }
  // Bounds made of 0x00 and 0xff bytes.
  EXPECT_EQ(scan({.start = Bytes("\x00", 1), .upper_bound = Bytes("\x01")}).size(), 3u);
  EXPECT_EQ(scan({.start = Bytes("\xff")}).size(), 4u);
  EXPECT_EQ(get(Bytes("\x00\x01", 2)), std::nullopt);
}

TEST_F(PointOps, SyncReturnsOk) {
  EXPECT_TRUE(engine().sync().is_ok()) << "sync of an empty engine";
  put("k", "v");
  Status status = engine().sync();
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_TRUE(engine().sync().is_ok()) << "a sync with nothing new to sync";
}

TEST_F(PointOps, ApproximateSizeIsMonotoneInTheRange) {
  Result<uint64_t> empty = engine().approximate_size("", "");
  ASSERT_TRUE(empty.is_ok()) << empty.status().to_string();
  constexpr int kKeys = 2000;
  for (int i = 0; i < kKeys; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "key%06d", i);
    put(key, Bytes(200, static_cast<char>('a' + i % 26)));
  }
  ASSERT_TRUE(engine().sync().is_ok());
  auto size = [&](ByteView start, ByteView end) -> uint64_t {
    Result<uint64_t> bytes = engine().approximate_size(start, end);
    EXPECT_TRUE(bytes.is_ok()) << bytes.status().to_string();
    return bytes.is_ok() ? *bytes : 0;
  };
  uint64_t all = size("", "");
  uint64_t half = size("key000000", "key001000");
  uint64_t quarter = size("key000250", "key000750");
  uint64_t nothing = size("zzz", "");
  EXPECT_GE(all, half);
  EXPECT_GE(half, quarter);
  EXPECT_GE(all, nothing);
  EXPECT_LE(all, 1000ull * kKeys * 210) << "an estimate far beyond what was written";
  Result<uint64_t> point = engine().approximate_size("key000010", "key000010");
  EXPECT_TRUE(point.is_ok()) << "an empty range is not an error";
}

TEST_F(PointOps, StatsDoNotCrash) {
  engine().stats();  // of an empty engine
  for (int i = 0; i < 100; ++i) put("k" + std::to_string(i), "v");
  ASSERT_TRUE(engine().sync().is_ok());
  EngineStats after = engine().stats();
  for (const auto& [name, value] : after) {
    EXPECT_FALSE(name.empty());
    EXPECT_FALSE(std::isnan(value)) << name;
  }
}

}  // namespace
}  // namespace tessera::conformance
