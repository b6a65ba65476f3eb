#include "tessera/coding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace tessera {
namespace {

TEST(Coding, Fixed32IsBigEndian) {
  Bytes out;
  put_fixed32_be(&out, 0x01020304);
  EXPECT_EQ(out, Bytes("\x01\x02\x03\x04"));
  ByteView in = out;
  uint32_t value = 0;
  ASSERT_TRUE(get_fixed32_be(&in, &value));
  EXPECT_EQ(value, 0x01020304u);
  EXPECT_TRUE(in.empty());
}

TEST(Coding, Fixed64RoundTripsAndConsumes) {
  const uint64_t values[] = {0, 1, 0xff, 0x100, 0x0102030405060708ull, UINT64_MAX};
  Bytes out;
  for (uint64_t v : values) put_fixed64_be(&out, v);
  EXPECT_EQ(out.size(), 8 * std::size(values));
  EXPECT_EQ(out.substr(8 * 4, 8), Bytes("\x01\x02\x03\x04\x05\x06\x07\x08"));
  ByteView in = out;
  for (uint64_t v : values) {
    uint64_t decoded = 1;
    ASSERT_TRUE(get_fixed64_be(&in, &decoded));
    EXPECT_EQ(decoded, v);
  }
  EXPECT_TRUE(in.empty());
}

// Big-endian encodings compare byte-wise like the numbers: the property keys built from them
// (sequence numbers, timestamps) rely on.
TEST(Coding, FixedBigEndianSortsLikeTheNumbers) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> numbers = {
      0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX};
  for (int i = 0; i < 500; ++i) numbers.push_back(rng() >> (rng() % 64));
  std::vector<Bytes> encoded;
  for (uint64_t n : numbers) {
    Bytes e;
    put_fixed64_be(&e, n);
    encoded.push_back(e);
  }
  std::vector<size_t> by_number(numbers.size()), by_bytes(numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) by_number[i] = by_bytes[i] = i;
  std::stable_sort(by_number.begin(), by_number.end(),
                   [&](size_t a, size_t b) { return numbers[a] < numbers[b]; });
  std::stable_sort(by_bytes.begin(), by_bytes.end(),
                   [&](size_t a, size_t b) { return encoded[a] < encoded[b]; });
  EXPECT_EQ(by_number, by_bytes);

  Bytes small, large;
  put_fixed32_be(&small, 0x000000ff);
  put_fixed32_be(&large, 0x00000100);
  EXPECT_LT(small, large);
}

TEST(Coding, VarintSizesAndRoundTrip) {
  struct Case {
    uint64_t value;
    size_t bytes;
  };
  const Case cases[] = {{0, 1},     {1, 1},          {127, 1},        {128, 2},        {16383, 2},
                        {16384, 3}, {UINT32_MAX, 5}, {1ull << 35, 6}, {UINT64_MAX, 10}};
  for (const Case& c : cases) {
    Bytes out;
    put_varint64(&out, c.value);
    EXPECT_EQ(out.size(), c.bytes) << c.value;
    ByteView in = out;
    uint64_t decoded = 0;
    ASSERT_TRUE(get_varint64(&in, &decoded)) << c.value;
    EXPECT_EQ(decoded, c.value);
    EXPECT_TRUE(in.empty());
  }
  Bytes out;
  put_varint32(&out, 300);
  EXPECT_EQ(out, Bytes("\xac\x02"));
  ByteView in = out;
  uint32_t decoded = 0;
  ASSERT_TRUE(get_varint32(&in, &decoded));
  EXPECT_EQ(decoded, 300u);
}

TEST(Coding, VarintsInSequence) {
  Bytes out;
  for (uint32_t i = 0; i < 100000; i += 997) put_varint32(&out, i);
  ByteView in = out;
  for (uint32_t i = 0; i < 100000; i += 997) {
    uint32_t decoded = 0;
    ASSERT_TRUE(get_varint32(&in, &decoded));
    ASSERT_EQ(decoded, i);
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, TruncatedInputFailsAndConsumesNothing) {
  Bytes varint;
  put_varint64(&varint, 1ull << 40);
  Bytes fixed;
  put_fixed64_be(&fixed, 42);
  for (size_t cut = 0; cut < varint.size(); ++cut) {
    ByteView in(varint.data(), cut);
    uint64_t value = 99;
    EXPECT_FALSE(get_varint64(&in, &value)) << cut;
    EXPECT_EQ(in.size(), cut) << "a failed decode leaves the input alone";
    EXPECT_EQ(value, 99u) << "a failed decode leaves the output alone";
  }
  for (size_t cut = 0; cut < 8; ++cut) {
    ByteView in(fixed.data(), cut);
    uint64_t v64 = 0;
    uint32_t v32 = 0;
    EXPECT_FALSE(get_fixed64_be(&in, &v64)) << cut;
    if (cut < 4) {
      EXPECT_FALSE(get_fixed32_be(&in, &v32)) << cut;
    }
    EXPECT_EQ(in.size(), cut);
  }
}

TEST(Coding, Varint32RejectsValuesOver32Bits) {
  Bytes out;
  put_varint64(&out, uint64_t{UINT32_MAX} + 1);
  ByteView in = out;
  uint32_t value = 0;
  EXPECT_FALSE(get_varint32(&in, &value));
  EXPECT_EQ(in.size(), out.size());
}

TEST(Coding, Varint64RejectsOverlongAndOverflowingInput) {
  // Eleven continuation bytes: longer than any 64-bit varint.
  Bytes overlong(11, '\x80');
  ByteView in = overlong;
  uint64_t value = 0;
  EXPECT_FALSE(get_varint64(&in, &value));
  // Ten bytes whose last one carries more than the single bit left in 64.
  Bytes overflow(9, '\xff');
  overflow.push_back('\x02');
  in = overflow;
  EXPECT_FALSE(get_varint64(&in, &value)) << "decoded as " << value;
  EXPECT_EQ(in.size(), overflow.size());
}

TEST(Coding, LengthPrefixed) {
  Bytes out;
  put_length_prefixed(&out, "");
  put_length_prefixed(&out, "hello");
  put_length_prefixed(&out, Bytes(300, 'x'));
  ByteView in = out;
  ByteView value;
  ASSERT_TRUE(get_length_prefixed(&in, &value));
  EXPECT_EQ(value, "");
  ASSERT_TRUE(get_length_prefixed(&in, &value));
  EXPECT_EQ(value, "hello");
  ASSERT_TRUE(get_length_prefixed(&in, &value));
  EXPECT_EQ(value, Bytes(300, 'x'));
  EXPECT_TRUE(in.empty());
}

TEST(Coding, LengthPrefixedShorterThanItsLengthFails) {
  Bytes out;
  put_length_prefixed(&out, "hello");
  ByteView in(out.data(), out.size() - 1);
  ByteView value = "untouched";
  EXPECT_FALSE(get_length_prefixed(&in, &value));
  EXPECT_EQ(in.size(), out.size() - 1);
  EXPECT_EQ(value, "untouched");
}

}  // namespace
}  // namespace tessera
