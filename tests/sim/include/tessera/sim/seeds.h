// Seed selection for simulation tests, from the environment.
//
// Purpose: one rule for every seeded test. TESSERA_SEED=<n> replays exactly one seed.
// Otherwise seeds TESSERA_SEED_FIRST (default 1) .. +TESSERA_SEEDS (default: the test's own
// count) are run. Thread-safety: reads the environment only; call from the test thread.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace tessera::sim {

inline uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

inline std::vector<uint64_t> seeds_from_env(uint64_t default_count) {
  if (const char* one = std::getenv("TESSERA_SEED"); one != nullptr && *one != '\0') {
    return {std::strtoull(one, nullptr, 10)};
  }
  const uint64_t first = env_u64("TESSERA_SEED_FIRST", 1);
  const uint64_t count = env_u64("TESSERA_SEEDS", default_count);
  std::vector<uint64_t> seeds;
  seeds.reserve(count);
  for (uint64_t i = 0; i < count; ++i) seeds.push_back(first + i);
  return seeds;
}

}  // namespace tessera::sim
