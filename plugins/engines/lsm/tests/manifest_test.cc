#include "manifest.h"

#include <gtest/gtest.h>

namespace tessera::lsm {
namespace {

TEST(VersionEdit, EncodeDecodeRoundTrip) {
  VersionEdit edit;
  edit.log_number = 12;
  edit.next_file_number = 40;
  edit.last_sequence = 123456789;
  edit.deleted_files.emplace_back(1, 7);
  auto file = std::make_shared<FileMeta>();
  file->number = 33;
  file->file_bytes = 4096;
  file->smallest = make_internal_key("a", 5, ValueType::kValue);
  file->largest = make_internal_key("z", 9, ValueType::kDeletion);
  edit.added_files.emplace_back(2, file);
  Bytes encoded;
  edit.encode(&encoded);
  auto decoded = VersionEdit::decode(encoded);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->log_number, 12u);
  EXPECT_EQ(decoded->next_file_number, 40u);
  EXPECT_EQ(decoded->last_sequence, 123456789u);
  ASSERT_EQ(decoded->deleted_files.size(), 1u);
  EXPECT_EQ(decoded->deleted_files[0], std::make_pair(1, uint64_t{7}));
  ASSERT_EQ(decoded->added_files.size(), 1u);
  EXPECT_EQ(decoded->added_files[0].first, 2);
  EXPECT_EQ(decoded->added_files[0].second->number, 33u);
  EXPECT_EQ(decoded->added_files[0].second->smallest, file->smallest);
  EXPECT_EQ(decoded->added_files[0].second->largest, file->largest);
  // Every truncation is an error, never a crash.
  for (size_t n = 1; n < encoded.size(); ++n) {
    auto partial = VersionEdit::decode(ByteView(encoded).substr(0, n));
    if (!partial.is_ok()) {
      EXPECT_EQ(partial.status().code(), StatusCode::kCorruption);
    }
  }
  EXPECT_EQ(VersionEdit::decode("\x63").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera::lsm
