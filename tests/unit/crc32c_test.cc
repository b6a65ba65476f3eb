#include "tessera/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera {

TEST(Crc32c, StandardCheckValue) {
  EXPECT_EQ(crc32c::value("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c::value("", 0), 0u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  uint32_t whole = crc32c::value(data.data(), data.size());
  for (size_t split : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    uint32_t part =
        crc32c::extend(crc32c::value(data.data(), split), data.data() + split, data.size() - split);
    EXPECT_EQ(part, whole) << split;
  }
}

TEST(Crc32c, DetectsFlip) {
  std::string data = "hello world";
  uint32_t before = crc32c::value(data.data(), data.size());
  data[3] ^= 1;
  EXPECT_NE(crc32c::value(data.data(), data.size()), before);
}

}  // namespace tessera
