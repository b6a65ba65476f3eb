#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "test_util.h"
#include "wal_format.h"
#include "wal_reader.h"
#include "wal_writer.h"

namespace tessera::lsm {
namespace {

std::vector<Bytes> write_records(const fs::path& path, int n) {
  std::vector<Bytes> records;
  auto writer = WalWriter::create(path);
  EXPECT_TRUE(writer.is_ok());
  for (int i = 0; i < n; ++i) {
    Bytes r(static_cast<size_t>(i * 37 % 300), static_cast<char>('a' + i % 26));
    records.push_back(r);
    EXPECT_TRUE((*writer)->add_record(r).is_ok());
  }
  EXPECT_TRUE((*writer)->sync().is_ok());
  return records;
}

Result<std::vector<Bytes>> read_all(const fs::path& path, TailPolicy policy,
                                    WalReadSummary* summary = nullptr) {
  std::vector<Bytes> out;
  auto result = read_log_file(path, policy, [&](ByteView p) {
    out.emplace_back(p);
    return Status::ok();
  });
  if (!result.is_ok()) return result.status();
  if (summary != nullptr) *summary = *result;
  return out;
}

void flip_byte(const fs::path& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x40));
}

TEST(Wal, RoundTrip) {
  testing::TempDir dir;
  auto path = dir.path() / "1.log";
  auto records = write_records(path, 50);
  auto read = read_all(path, TailPolicy::kStrict);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, records);
}

TEST(Wal, TruncatedTailAtEveryLengthRecoversPrefix) {
  testing::TempDir dir;
  auto path = dir.path() / "1.log";
  auto records = write_records(path, 10);
  auto full = fs::file_size(path);
  for (uint64_t size = 0; size < full; ++size) {
    fs::resize_file(path, size);
    WalReadSummary summary;
    auto read = read_all(path, TailPolicy::kTolerateTornTail, &summary);
    ASSERT_TRUE(read.is_ok()) << size << ": " << read.status().to_string();
    // Whatever comes back is a prefix of what was written.
    ASSERT_LE(read->size(), records.size());
    for (size_t i = 0; i < read->size(); ++i) EXPECT_EQ((*read)[i], records[i]);
    EXPECT_EQ(summary.valid_bytes + summary.dropped_bytes, size);
    // Restore for the next round.
    write_records(path, 10);
  }
}

TEST(Wal, FlipInTheMiddleIsCorruptionNamingTheFile) {
  testing::TempDir dir;
  auto path = dir.path() / "7.log";
  write_records(path, 20);
  for (uint64_t offset : {uint64_t{0}, uint64_t{4}, uint64_t{9}, uint64_t{20}, uint64_t{300}}) {
    write_records(path, 20);
    flip_byte(path, offset);
    auto read = read_all(path, TailPolicy::kTolerateTornTail);
    ASSERT_FALSE(read.is_ok()) << offset;
    EXPECT_EQ(read.status().code(), StatusCode::kCorruption);
    EXPECT_NE(read.status().message().find("7.log"), std::string::npos);
  }
}

TEST(Wal, FlipInLastPayloadIsATornTailOrStrictCorruption) {
  testing::TempDir dir;
  auto path = dir.path() / "1.log";
  auto records = write_records(path, 5);
  flip_byte(path, fs::file_size(path) - 1);
  auto tolerant = read_all(path, TailPolicy::kTolerateTornTail);
  ASSERT_TRUE(tolerant.is_ok());
  EXPECT_EQ(tolerant->size(), 4u);
  auto strict = read_all(path, TailPolicy::kStrict);
  EXPECT_EQ(strict.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera::lsm

namespace tessera::lsm {
namespace {

TEST(Wal, ZeroFilledTailReadsAsTheEndAndTornRecordsInItAreTolerated) {
  testing::TempDir dir;
  auto path = dir.path() / "3.log";
  std::vector<Bytes> records;
  std::unique_ptr<WalWriter> writer;
  {
    auto created = WalWriter::create(path, 64 << 10);
    ASSERT_TRUE(created.is_ok());
    writer = std::move(created).value();
  }
  for (int i = 0; i < 30; ++i) {
    records.emplace_back(static_cast<size_t>(10 + i), static_cast<char>('a' + i));
    ASSERT_TRUE(writer->add_record(records.back()).is_ok());
  }
  uint64_t written = writer->size();
  EXPECT_GT(fs::file_size(path), written);  // zeros ahead of the appends
  auto read = read_all(path, TailPolicy::kTolerateTornTail);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, records);
  // An append torn inside the zero-filled region: the last record's bytes partly zeroed.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(written - 5));
    f.write("\0\0\0\0\0", 5);
  }
  read = read_all(path, TailPolicy::kTolerateTornTail);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->size(), records.size() - 1);
  // Damage earlier in the file is still corruption.
  flip_byte(path, 30);
  EXPECT_EQ(read_all(path, TailPolicy::kTolerateTornTail).status().code(), StatusCode::kCorruption);
  // A clean close trims the zeros.
  ASSERT_TRUE(writer->close().is_ok());
  EXPECT_EQ(fs::file_size(path), written);
}

}  // namespace
}  // namespace tessera::lsm

namespace tessera::lsm {
namespace {

void write_at(const fs::path& path, uint64_t offset, ByteView bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A log that a newer one followed was synced and closed whole: zeros after its records are
// unwritten space, anything else at its end is Corruption (naming the file and the offset).
TEST(Wal, CompleteRecordsPolicyAcceptsOnlyAZeroTail) {
  testing::TempDir dir;
  auto path = dir.path() / "5.log";
  auto records = write_records(path, 10);
  uint64_t size = fs::file_size(path);
  auto read = read_all(path, TailPolicy::kCompleteRecords);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, records);
  fs::resize_file(path, size + 3 * kLogReadChunkBytes / 2);  // zeros, across a chunk boundary
  WalReadSummary summary;
  read = read_all(path, TailPolicy::kCompleteRecords, &summary);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, records);
  EXPECT_EQ(summary.valid_bytes, size);
  // A byte after the zeros, in the second chunk: the zeros were not the unwritten end.
  write_at(path, size + kLogReadChunkBytes + 7, "x");
  read = read_all(path, TailPolicy::kCompleteRecords);
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption) << read.status().to_string();
  fs::resize_file(path, size);
  for (uint64_t cut : {uint64_t{1}, uint64_t{5}, uint64_t{kRecordHeaderBytes + 2}}) {
    write_records(path, 10);
    fs::resize_file(path, size - cut);  // the last record cut short
    read = read_all(path, TailPolicy::kCompleteRecords);
    EXPECT_EQ(read.status().code(), StatusCode::kCorruption) << cut;
    EXPECT_NE(read.status().message().find("5.log"), std::string::npos);
    EXPECT_NE(read.status().message().find("offset"), std::string::npos);
  }
  write_records(path, 10);
  flip_byte(path, size - 1);  // the last record's payload
  read = read_all(path, TailPolicy::kCompleteRecords);
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption);
  // The same damage is a torn tail for the newest WAL.
  read = read_all(path, TailPolicy::kTolerateTornTail);
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->size(), records.size() - 1);
}

// Reading a log holds one chunk, or one record when that is larger, never the whole file.
TEST(Wal, ReadingALargeLogHoldsOneChunkAtATime) {
  testing::TempDir dir;
  auto path = dir.path() / "8.log";
  std::vector<Bytes> records;
  {
    auto writer = WalWriter::create(path);
    ASSERT_TRUE(writer.is_ok());
    for (int i = 0; i < 1500; ++i) {  // ~12 MiB of 8 KiB records
      records.emplace_back(8000 + i % 300, static_cast<char>('a' + i % 26));
      if (i == 700) records.back() = Bytes(3 * kLogReadChunkBytes, 'B');  // one big record
      ASSERT_TRUE((*writer)->add_record(records.back()).is_ok());
    }
    ASSERT_TRUE((*writer)->close().is_ok());
  }
  ASSERT_GT(fs::file_size(path), 8 * kLogReadChunkBytes);
  WalReadSummary summary;
  auto read = read_all(path, TailPolicy::kTolerateTornTail, &summary);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, records);
  EXPECT_EQ(summary.buffer_bytes_max, 3 * kLogReadChunkBytes);  // the big record's own buffer
  records[700] = Bytes(100, 'b');
  {
    auto writer = WalWriter::create(path);
    ASSERT_TRUE(writer.is_ok());
    for (const auto& r : records) ASSERT_TRUE((*writer)->add_record(r).is_ok());
  }
  read = read_all(path, TailPolicy::kStrict, &summary);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, records);
  EXPECT_LE(summary.buffer_bytes_max, kLogReadChunkBytes);
}

// The zeros after a torn append are checked to the end of the file, chunk by chunk.
TEST(Wal, TornTailCheckLooksBeyondTheFirstChunk) {
  testing::TempDir dir;
  auto path = dir.path() / "9.log";
  auto created = WalWriter::create(path, 4 * kLogReadChunkBytes);  // zero-filled far ahead
  ASSERT_TRUE(created.is_ok());
  auto writer = std::move(created).value();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(writer->add_record(Bytes(500, 'r')).is_ok());
  uint64_t written = writer->size();
  flip_byte(path, written - 1);  // the last append, torn
  auto read = read_all(path, TailPolicy::kTolerateTornTail);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->size(), 19u);
  write_at(path, 3 * kLogReadChunkBytes + 11, "x");  // data far after it: not a torn append
  read = read_all(path, TailPolicy::kTolerateTornTail);
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption) << read.status().to_string();
}

}  // namespace
}  // namespace tessera::lsm
