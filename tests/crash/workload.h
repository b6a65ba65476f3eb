// The crash tests' workload: batch number b is a pure function of (seed, b), so the parent can
// rebuild exactly what the child wrote.
//
// Batch b:
//   puts   "m/<b>"            = "<b>"             marker: present iff batch b is
//   puts   "d/<b>/<j>"        = value(seed, b, j)  1..6 data keys of this batch
//   puts   "s/<b % 32>"       = "<b>"             a slot overwritten every 32 batches
//   deletes "d/<b - 40>/<j>"  for every j          keeps the live set bounded
// A partial batch, a lost acknowledged batch or a reordering shows up as a difference between
// the engine's full scan and the model of batches [0, P), where P = 1 + the highest marker.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "tessera/write_batch.h"

namespace tessera::crash {

inline constexpr uint64_t kSlots = 32;
inline constexpr uint64_t kDeleteDistance = 40;

inline std::string marker_key(uint64_t b) {
  char k[32];
  std::snprintf(k, sizeof(k), "m/%010llu", static_cast<unsigned long long>(b));
  return k;
}
inline std::string data_key(uint64_t b, uint64_t j) {
  char k[64];
  std::snprintf(k, sizeof(k), "d/%010llu/%02llu", static_cast<unsigned long long>(b),
                static_cast<unsigned long long>(j));
  return k;
}
inline std::string slot_key(uint64_t b) {
  char k[32];
  std::snprintf(k, sizeof(k), "s/%02llu", static_cast<unsigned long long>(b % kSlots));
  return k;
}

inline uint64_t data_keys_of(uint64_t seed, uint64_t b) {
  std::mt19937_64 rng(seed * 1000003 + b);
  return 1 + rng() % 6;
}

inline std::string data_value(uint64_t seed, uint64_t b, uint64_t j) {
  std::mt19937_64 rng(seed * 7919 + b * 131 + j);
  std::string v = std::to_string(b) + ":" + std::to_string(j) + ":";
  v.append(rng() % 200, static_cast<char>('a' + rng() % 26));
  return v;
}

// Calls put(key, value) and del(key) in the batch's order.
template <typename Put, typename Del>
void for_each_op(uint64_t seed, uint64_t b, Put&& put, Del&& del) {
  put(marker_key(b), std::to_string(b));
  uint64_t n = data_keys_of(seed, b);
  for (uint64_t j = 0; j < n; ++j) put(data_key(b, j), data_value(seed, b, j));
  put(slot_key(b), std::to_string(b));
  if (b >= kDeleteDistance) {
    uint64_t old = b - kDeleteDistance;
    for (uint64_t j = 0; j < data_keys_of(seed, old); ++j) del(data_key(old, j));
  }
}

inline WriteBatch make_batch(uint64_t seed, uint64_t b) {
  WriteBatch batch;
  for_each_op(
      seed, b, [&](const std::string& k, const std::string& v) { batch.put(k, v); },
      [&](const std::string& k) { batch.del(k); });
  return batch;
}

inline void apply_to_model(uint64_t seed, uint64_t b, std::map<std::string, std::string>* model) {
  for_each_op(
      seed, b, [&](const std::string& k, const std::string& v) { (*model)[k] = v; },
      [&](const std::string& k) { model->erase(k); });
}

}  // namespace tessera::crash
