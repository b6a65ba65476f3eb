// Helpers shared by the btree unit tests: a fresh temporary directory per test and the seed
// of randomized tests (TESSERA_SEED from the environment, else random; always printed).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "tessera/testing/temp_dir.h"

namespace tessera::btree::testing {

using TempDir = tessera::testing::TempDir;

inline uint64_t test_seed() {
  uint64_t seed;
  if (const char* env = std::getenv("TESSERA_SEED")) {
    seed = std::stoull(env);
  } else {
    seed = std::random_device{}();
  }
  std::printf("TESSERA_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace tessera::btree::testing
