#include "tessera/write_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessera/coding.h"

namespace tessera {
namespace {

struct OwnedOp {
  WriteBatch::OpKind kind;
  Bytes key;
  Bytes value;
  bool operator==(const OwnedOp&) const = default;
};

std::vector<OwnedOp> ops_of(const WriteBatch& batch) {
  std::vector<OwnedOp> out;
  batch.for_each([&](const WriteBatch::Op& op) {
    out.push_back({op.kind, Bytes(op.key), Bytes(op.value)});
  });
  return out;
}

constexpr auto kPut = WriteBatch::OpKind::kPut;
constexpr auto kDelete = WriteBatch::OpKind::kDelete;

TEST(WriteBatch, EmptyBatch) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.count(), 0u);
  EXPECT_EQ(batch.byte_size(), 0u);
  EXPECT_TRUE(ops_of(batch).empty());
  Result<WriteBatch> rebuilt = WriteBatch::from_rep("");
  ASSERT_TRUE(rebuilt.is_ok());
  EXPECT_TRUE(rebuilt->empty());
}

TEST(WriteBatch, KeepsOperationsInOrder) {
  WriteBatch batch;
  batch.put("a", "1");
  batch.del("b");
  batch.put("a", "2");
  batch.put("", "");
  EXPECT_EQ(batch.count(), 4u);
  EXPECT_FALSE(batch.empty());
  EXPECT_EQ(ops_of(batch),
            (std::vector<OwnedOp>{
                {kPut, "a", "1"}, {kDelete, "b", ""}, {kPut, "a", "2"}, {kPut, "", ""}}));
}

TEST(WriteBatch, RepFollowsTheGrammar) {
  WriteBatch batch;
  batch.put("k", "vv");
  batch.del("d");
  Bytes expected;
  expected.push_back(static_cast<char>(kPut));
  put_length_prefixed(&expected, "k");
  put_length_prefixed(&expected, "vv");
  expected.push_back(static_cast<char>(kDelete));
  put_length_prefixed(&expected, "d");
  EXPECT_EQ(batch.rep(), expected);
  EXPECT_EQ(batch.byte_size(), expected.size());
}

TEST(WriteBatch, RepRoundTrips) {
  WriteBatch batch;
  Bytes binary_key("\x00\xff\x00", 3);
  Bytes large_value(100000, 'v');  // a length that needs a three-byte varint
  batch.put(binary_key, "x");
  batch.put("large", large_value);
  batch.del("gone");
  batch.put("empty", "");
  Result<WriteBatch> rebuilt = WriteBatch::from_rep(batch.rep());
  ASSERT_TRUE(rebuilt.is_ok()) << rebuilt.status().to_string();
  EXPECT_EQ(rebuilt->count(), batch.count());
  EXPECT_EQ(rebuilt->rep(), batch.rep());
  EXPECT_EQ(ops_of(*rebuilt), ops_of(batch));
  EXPECT_EQ(ops_of(*rebuilt)[1].value.size(), large_value.size());
}

TEST(WriteBatch, RebuiltBatchOwnsItsBytes) {
  Result<WriteBatch> rebuilt = Status::internal("unset");
  {
    WriteBatch batch;
    batch.put("key", "value");
    Bytes copy(batch.rep());
    rebuilt = WriteBatch::from_rep(copy);
  }  // the source bytes are gone
  ASSERT_TRUE(rebuilt.is_ok());
  EXPECT_EQ(ops_of(*rebuilt), (std::vector<OwnedOp>{{kPut, "key", "value"}}));
}

TEST(WriteBatch, AppendAndClear) {
  WriteBatch first;
  first.put("a", "1");
  WriteBatch second;
  second.del("b");
  second.put("c", "3");
  first.append(second);
  EXPECT_EQ(first.count(), 3u);
  EXPECT_EQ(ops_of(first),
            (std::vector<OwnedOp>{{kPut, "a", "1"}, {kDelete, "b", ""}, {kPut, "c", "3"}}));
  EXPECT_EQ(second.count(), 2u) << "the appended batch is unchanged";
  first.clear();
  EXPECT_TRUE(first.empty());
  EXPECT_EQ(first.byte_size(), 0u);
  first.put("after", "clear");
  EXPECT_EQ(ops_of(first), (std::vector<OwnedOp>{{kPut, "after", "clear"}}));
}

TEST(WriteBatch, FromRepRejectsUnknownKind) {
  Bytes rep;
  rep.push_back('\x07');
  put_length_prefixed(&rep, "k");
  Result<WriteBatch> batch = WriteBatch::from_rep(rep);
  EXPECT_EQ(batch.status().code(), StatusCode::kCorruption);
  EXPECT_NE(batch.status().message().find("unknown operation kind"), std::string::npos);
}

TEST(WriteBatch, FromRepRejectsEveryTruncation) {
  WriteBatch batch;
  batch.put("key", "value");
  batch.del("other");
  Bytes rep(batch.rep());
  // Cutting inside an operation is corruption; cutting between operations leaves a valid
  // shorter batch.
  const size_t first_op_bytes = 1 + 1 + 3 + 1 + 5;
  for (size_t cut = 1; cut < rep.size(); ++cut) {
    Result<WriteBatch> truncated = WriteBatch::from_rep(ByteView(rep).substr(0, cut));
    if (cut == first_op_bytes) {
      ASSERT_TRUE(truncated.is_ok()) << cut;
      EXPECT_EQ(truncated->count(), 1u);
    } else {
      EXPECT_EQ(truncated.status().code(), StatusCode::kCorruption) << "cut at " << cut;
    }
  }
}

TEST(WriteBatch, FromRepRejectsLengthPastTheEnd) {
  Bytes rep;
  rep.push_back(static_cast<char>(kPut));
  put_varint32(&rep, 1000);  // a key length far beyond the bytes that follow
  rep += "short";
  EXPECT_EQ(WriteBatch::from_rep(rep).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera
