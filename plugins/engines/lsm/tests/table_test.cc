#include <gtest/gtest.h>

#include <fstream>

#include "table_builder.h"
#include "table_reader.h"
#include "test_util.h"

namespace tessera::lsm {
namespace {

Bytes key_of(int i) {
  char key[32];
  std::snprintf(key, sizeof(key), "user%08d", i);
  return key;
}

fs::path build(const fs::path& dir, int n, Compression compression) {
  fs::path path = dir / "000005.sst";
  auto file = WritableFile::create(path);
  EXPECT_TRUE(file.is_ok());
  TableOptions options;
  options.compression = compression;
  TableBuilder builder(options, file->get());
  for (int i = 0; i < n; ++i) {
    // Two versions of every even key; odd keys are deleted at the newer sequence.
    Bytes user = key_of(i);
    if (i % 2 == 0) {
      builder.add(make_internal_key(user, 20, ValueType::kValue), "new" + std::to_string(i));
    } else {
      builder.add(make_internal_key(user, 20, ValueType::kDeletion), "");
    }
    builder.add(make_internal_key(user, 10, ValueType::kValue), Bytes(100, 'v'));
  }
  EXPECT_TRUE(builder.finish().is_ok());
  EXPECT_TRUE((*file)->close().is_ok());
  return path;
}

class TableTest : public ::testing::TestWithParam<Compression> {};

TEST_P(TableTest, GetAndIterate) {
  testing::TempDir dir;
  BlockCache cache(1 << 20);
  auto path = build(dir.path(), 2000, GetParam());
  auto table = TableReader::open(path, 5, &cache);
  ASSERT_TRUE(table.is_ok()) << table.status().to_string();
  EXPECT_EQ((*table)->entry_count(), 4000u);
  for (int i = 0; i < 2000; ++i) {
    auto latest = (*table)->get(key_of(i), kSequenceMax);
    ASSERT_TRUE(latest.is_ok());
    ASSERT_TRUE(latest->has_value()) << i;
    if (i % 2 == 0) {
      EXPECT_EQ((*latest)->value, "new" + std::to_string(i));
    } else {
      EXPECT_TRUE((*latest)->deleted);
    }
    auto old = (*table)->get(key_of(i), 15);
    ASSERT_TRUE(old.is_ok() && old->has_value());
    EXPECT_EQ((*old)->value, Bytes(100, 'v'));
    auto none = (*table)->get(key_of(i), 5);
    ASSERT_TRUE(none.is_ok());
    EXPECT_FALSE(none->has_value());
  }
  EXPECT_FALSE((*table)->get("absent", kSequenceMax)->has_value());
  auto it = TableReader::new_iterator(*table, true);
  int count = 0;
  for (it->seek_to_first(); it->valid(); it->next()) ++count;
  EXPECT_EQ(count, 4000);
  EXPECT_TRUE(it->status().is_ok());
  it->seek(make_internal_key(key_of(1000), kSequenceMax, kValueTypeForSeek));
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(user_key_of(it->key()), key_of(1000));
  uint64_t a = (*table)->approximate_offset(make_internal_key(key_of(500), 99, ValueType::kValue));
  uint64_t b = (*table)->approximate_offset(make_internal_key(key_of(1500), 99, ValueType::kValue));
  EXPECT_LT(a, b);
}

INSTANTIATE_TEST_SUITE_P(Compressions, TableTest,
                         ::testing::Values(Compression::kNone, Compression::kZstd));

TEST(Table, EveryFlippedByteIsCorruptionOrHarmless) {
  testing::TempDir dir;
  auto path = build(dir.path(), 300, Compression::kNone);
  Bytes original;
  {
    std::ifstream in(path, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  int corruptions = 0;
  for (size_t offset = 0; offset < original.size(); offset += 7) {
    Bytes damaged = original;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x10);
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(damaged.data(), static_cast<std::streamsize>(damaged.size()));
    }
    auto table = TableReader::open(path, 5, nullptr);
    Status status = table.status();
    if (table.is_ok()) {
      auto it = TableReader::new_iterator(*table, false);
      int count = 0;
      for (it->seek_to_first(); it->valid(); it->next()) ++count;
      status = it->status();
      if (status.is_ok()) {
        EXPECT_EQ(count, 600) << offset;  // a flip never goes unnoticed
      }
    }
    if (!status.is_ok()) {
      ++corruptions;
      EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
      EXPECT_NE(status.message().find("000005.sst"), std::string::npos) << status.to_string();
    }
  }
  EXPECT_GT(corruptions, 0);
}

}  // namespace
}  // namespace tessera::lsm
