// Seeded random keys, values, batches and scans for the randomized conformance tests.
//
// Keys come from a fixed table drawn at construction, over a small alphabet that includes 0x00,
// 0x7f, 0x80 and 0xff, so that keys collide, prefix one another and straddle the signed/unsigned
// boundary; the empty key is always in the table.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "engine_fixture.h"

namespace tessera::conformance {

// TESSERA_SEED from the environment when set (to replay a failure), else a fresh random seed.
inline uint64_t test_seed() {
  if (const char* text = std::getenv("TESSERA_SEED"); text != nullptr && text[0] != '\0') {
    return std::strtoull(text, nullptr, 10);
  }
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

class RandomOps {
 public:
  RandomOps(uint64_t seed, size_t keyspace) : rng_(seed) {
    keys_.push_back("");
    while (keys_.size() < keyspace) keys_.push_back(random_bytes(1 + below(12)));
  }

  // Uniform in [0, n). REQUIRES: n > 0.
  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  const Bytes& key() { return keys_[below(keys_.size())]; }

  // Mostly short values, sometimes empty, now and then a few KiB.
  Bytes value() {
    size_t size = below(10) == 0 ? 0 : below(64);
    if (below(50) == 0) size = 1024 + below(4096);
    Bytes out(size, '\0');
    for (char& c : out) c = static_cast<char>(below(256));
    return out;
  }

  // 1 to 20 puts and deletes, several on the same key now and then; applied to *model in order,
  // which is what the engine must do.
  WriteBatch batch(Model* model) {
    WriteBatch batch;
    size_t ops = 1 + below(20);
    for (size_t i = 0; i < ops; ++i) {
      Bytes k = key();
      if (below(3) == 0) {
        batch.del(k);
        model->erase(k);
      } else {
        Bytes v = value();
        batch.put(k, v);
        (*model)[k] = v;
      }
    }
    return batch;
  }

  // Bounds are table keys or fresh bytes (usually absent); the limit is often unlimited.
  ScanSpec scan_spec() {
    ScanSpec spec;
    if (below(5) != 0) spec.start = bound();
    if (below(5) < 2) spec.upper_bound = bound();
    spec.limit = below(10) < 3 ? SIZE_MAX : below(50);
    return spec;
  }

 private:
  Bytes bound() { return below(2) == 0 ? key() : random_bytes(below(6)); }

  Bytes random_bytes(size_t size) {
    static constexpr unsigned char kAlphabet[] = {0x00, 0x01, 'a',  'b', 'c',
                                                  0x7f, 0x80, 0xfe, 0xff};
    Bytes out(size, '\0');
    for (char& c : out) c = static_cast<char>(kAlphabet[below(sizeof kAlphabet)]);
    return out;
  }

  std::mt19937_64 rng_;
  std::vector<Bytes> keys_;
};

}  // namespace tessera::conformance
