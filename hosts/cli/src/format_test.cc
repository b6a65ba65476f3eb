#include "format.h"

#include <gtest/gtest.h>

namespace tessera::cli {
namespace {

TEST(Escape, KeepsPrintableAndEscapesTheRest) {
  EXPECT_EQ(escape("plain key-1"), "plain key-1");
  EXPECT_EQ(escape("a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
  EXPECT_EQ(escape(std::string("\x00\x7f\xff", 3)), "\\x00\\x7f\\xff");
  EXPECT_EQ(escape(""), "");
}

TEST(Escape, UnescapeIsTheInverseForEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  Result<Bytes> back = unescape(escape(all));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, all);
}

TEST(Escape, UnescapeRejectsBrokenEscapes) {
  EXPECT_FALSE(unescape("abc\\").is_ok());
  EXPECT_FALSE(unescape("\\x4").is_ok());
  EXPECT_FALSE(unescape("\\xzz").is_ok());
  EXPECT_FALSE(unescape("\\q").is_ok());
  EXPECT_EQ(*unescape("\\x41\\x4A"), "AJ");
}

TEST(Hex, TwoLowerCaseDigitsPerByte) {
  EXPECT_EQ(to_hex(std::string("\x00\x1f\xab", 3)), "001fab");
  EXPECT_EQ(to_hex(""), "");
}

TEST(ParseBatch, PutsDeletesCommentsAndBlankLines) {
  Result<std::vector<BatchOperation>> ops =
      parse_batch("# load\nput a hello world\r\n\n  delete b\nput c\\tx  two  spaces \nput e \n");
  ASSERT_TRUE(ops.is_ok()) << ops.status().to_string();
  ASSERT_EQ(ops->size(), 4u);
  EXPECT_EQ((*ops)[0].key, "a");
  EXPECT_EQ((*ops)[0].value, std::optional<Bytes>("hello world"));
  EXPECT_EQ((*ops)[1].key, "b");
  EXPECT_FALSE((*ops)[1].value.has_value());
  EXPECT_EQ((*ops)[2].key, "c\tx");
  EXPECT_EQ((*ops)[2].value, std::optional<Bytes>(" two  spaces "));
  EXPECT_EQ((*ops)[3].key, "e");
  EXPECT_EQ((*ops)[3].value, std::optional<Bytes>(""));
}

TEST(ParseBatch, NoTrailingNewlineNeeded) {
  Result<std::vector<BatchOperation>> ops = parse_batch("put k v");
  ASSERT_TRUE(ops.is_ok());
  ASSERT_EQ(ops->size(), 1u);
  EXPECT_EQ((*ops)[0].value, std::optional<Bytes>("v"));
}

TEST(ParseBatch, ErrorsNameTheLine) {
  Result<std::vector<BatchOperation>> ops = parse_batch("put a 1\nupsert b 2\n");
  ASSERT_FALSE(ops.is_ok());
  EXPECT_EQ(ops.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ops.status().message().find("line 2"), std::string::npos) << ops.status().message();

  EXPECT_FALSE(parse_batch("put a\n").is_ok());
  EXPECT_FALSE(parse_batch("delete\n").is_ok());
  EXPECT_FALSE(parse_batch("delete a b\n").is_ok());
  EXPECT_FALSE(parse_batch("put a \\z\n").is_ok());
}

TEST(Hex, RoundTripsAndRefusesGarbage) {
  const Bytes bytes("\x00\x7f\xff ab", 6);
  Result<Bytes> back = from_hex(to_hex(bytes));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, bytes);
  EXPECT_EQ(*from_hex("ABcd"), "\xab\xcd");
  EXPECT_FALSE(from_hex("abc").is_ok());
  EXPECT_FALSE(from_hex("zz").is_ok());
}

}  // namespace
}  // namespace tessera::cli
