// The lsm engine's memory bound (README, "Memory"), checked on the process: a 1M-key fill and
// random reads with small memtables and cache must keep the peak resident set within
//   baseline + 2 x memtable_bytes_max + block_cache_bytes_max + per-key index and filter bytes
//   + kOverheadBytes
// The test is its own executable so that the peak (VmHWM) is this test's alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "db.h"
#include "test_util.h"

namespace tessera::lsm {
namespace {

constexpr size_t kKeys = 1'000'000;
constexpr size_t kValueBytes = 100;
constexpr size_t kMemtableBytes = 8 << 20;
constexpr size_t kBlockCacheBytes = 8 << 20;
// Open tables' index blocks and bloom filters (README: ~1.25 + ~0.25 bytes per key at these
// sizes), and a compaction's 8 bytes per output key while it builds the filter.
constexpr size_t kPerKeyBytes = 10;
// What the bound states beyond the configured sizes: arena blocks past the limit, allocator
// slack, the commit buffer, compaction's input and output blocks, thread stacks.
constexpr size_t kOverheadBytes = 24 << 20;

size_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  ADD_FAILURE() << "no VmHWM in /proc/self/status";
  return 0;
}

Bytes key_of(size_t i) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016zu", i);
  return Bytes(buffer, 16);
}

TEST(LsmMemoryBound, AMillionKeyFillStaysWithinTheConfiguredSizes) {
  testing::TempDir dir;
  LsmOptions options;
  options.memtable_bytes_max = kMemtableBytes;
  options.block_cache_bytes_max = kBlockCacheBytes;
  const size_t baseline = peak_rss_bytes();

  auto opened = LsmEngine::open(dir.path(), options);
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  std::unique_ptr<LsmEngine> engine = std::move(opened).value();
  std::vector<uint32_t> order(kKeys);
  for (size_t i = 0; i < kKeys; ++i) order[i] = static_cast<uint32_t>(i);
  std::mt19937_64 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  const Bytes value(kValueBytes, 'v');
  for (size_t i = 0; i < kKeys; i += 100) {
    WriteBatch batch;
    for (size_t j = i; j < i + 100; ++j) batch.put(key_of(order[j]), value);
    ASSERT_TRUE(engine->write({}, batch).is_ok());
  }
  for (size_t i = 0; i < kKeys / 4; ++i) {
    auto got = engine->get({}, key_of(rng() % kKeys));
    ASSERT_TRUE(got.is_ok() && got->has_value());
  }
  // The order vector is the test's, not the engine's.
  const size_t test_bytes = order.capacity() * sizeof(uint32_t);
  const size_t bound = baseline + 2 * kMemtableBytes + kBlockCacheBytes + kKeys * kPerKeyBytes +
                       kOverheadBytes + test_bytes;
  const size_t peak = peak_rss_bytes();
  std::printf("peak RSS %zu MiB (baseline %zu MiB, bound %zu MiB)\n", peak >> 20, baseline >> 20,
              bound >> 20);
  EXPECT_LE(peak, bound);
}

}  // namespace
}  // namespace tessera::lsm
