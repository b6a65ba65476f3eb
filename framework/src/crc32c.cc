#include "tessera/crc32c.h"

#include <array>
#include <cstring>

namespace tessera::crc32c {
namespace {

constexpr uint32_t kPolynomialReflected = 0x82F63B78;

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomialReflected : 0);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = make_table();

uint32_t extend_portable(uint32_t crc, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const char* data, size_t n) {
  uint64_t crc64 = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    crc64 = __builtin_ia32_crc32di(crc64, word);
    data += 8;
    n -= 8;
  }
  auto crc32 = static_cast<uint32_t>(crc64);
  while (n > 0) {
    crc32 = __builtin_ia32_crc32qi(crc32, static_cast<uint8_t>(*data));
    ++data;
    --n;
  }
  return crc32;
}

bool have_sse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

uint32_t extend(uint32_t init, const char* data, size_t n) {
  uint32_t crc = init ^ 0xFFFFFFFFu;
#if defined(__x86_64__)
  if (have_sse42()) return extend_sse42(crc, data, n) ^ 0xFFFFFFFFu;
#endif
  return extend_portable(crc, data, n) ^ 0xFFFFFFFFu;
}

}  // namespace tessera::crc32c
