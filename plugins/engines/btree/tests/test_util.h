// Helpers shared by the btree unit tests: a fresh temporary directory per test and the seed
// of randomized tests (TESSERA_SEED from the environment, else random; always printed).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace tessera::btree::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("tessera-btree-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

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
