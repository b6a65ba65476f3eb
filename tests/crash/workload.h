// The crash tests' workload: batch number b is a pure function of (seed, b), so the parent can
// rebuild exactly what the child wrote.
//
// Each writer thread t has its own key space and its own batch numbers 0, 1, 2, ...
// Batch b of thread t:
//   puts   "m/<t>/<b>"            = "<b>"                marker: present iff the batch is
//   puts   "d/<t>/<b>/<j>"        = value(seed, t, b, j)  1..6 data keys of this batch
//   puts   "s/<t>/<b % 32>"       = "<b>"                a slot overwritten every 32 batches
//   deletes "d/<t>/<b - 40>/<j>"  for every j             keeps the live set bounded
// A thread writes its batches one after another, so those present form a prefix [0, P_t). A
// partial batch, a lost acknowledged batch or a reordering shows up as a difference between the
// engine's full scan and the model of every thread's batches [0, P_t), where P_t = 1 + the
// highest marker of thread t.
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

inline constexpr uint64_t kThreadsMax = 64;

inline std::string marker_prefix(uint64_t t) { return "m/" + std::to_string(100 + t) + "/"; }
inline std::string marker_key(uint64_t t, uint64_t b) {
  char k[48];
  std::snprintf(k, sizeof(k), "%s%010llu", marker_prefix(t).c_str(),
                static_cast<unsigned long long>(b));
  return k;
}
inline std::string data_key(uint64_t t, uint64_t b, uint64_t j) {
  char k[64];
  std::snprintf(k, sizeof(k), "d/%llu/%010llu/%02llu", static_cast<unsigned long long>(100 + t),
                static_cast<unsigned long long>(b), static_cast<unsigned long long>(j));
  return k;
}
inline std::string slot_key(uint64_t t, uint64_t b) {
  char k[48];
  std::snprintf(k, sizeof(k), "s/%llu/%02llu", static_cast<unsigned long long>(100 + t),
                static_cast<unsigned long long>(b % kSlots));
  return k;
}

inline uint64_t data_keys_of(uint64_t seed, uint64_t t, uint64_t b) {
  std::mt19937_64 rng(seed * 1000003 + t * 7777 + b);
  return 1 + rng() % 6;
}

inline std::string data_value(uint64_t seed, uint64_t t, uint64_t b, uint64_t j) {
  std::mt19937_64 rng(seed * 7919 + t * 104729 + b * 131 + j);
  std::string v = std::to_string(b) + ":" + std::to_string(j) + ":";
  v.append(rng() % 200, static_cast<char>('a' + rng() % 26));
  return v;
}

// Calls put(key, value) and del(key) in the batch's order.
template <typename Put, typename Del>
void for_each_op(uint64_t seed, uint64_t t, uint64_t b, Put&& put, Del&& del) {
  put(marker_key(t, b), std::to_string(b));
  uint64_t n = data_keys_of(seed, t, b);
  for (uint64_t j = 0; j < n; ++j) put(data_key(t, b, j), data_value(seed, t, b, j));
  put(slot_key(t, b), std::to_string(b));
  if (b >= kDeleteDistance) {
    uint64_t old = b - kDeleteDistance;
    for (uint64_t j = 0; j < data_keys_of(seed, t, old); ++j) del(data_key(t, old, j));
  }
}

inline WriteBatch make_batch(uint64_t seed, uint64_t t, uint64_t b) {
  WriteBatch batch;
  for_each_op(
      seed, t, b, [&](const std::string& k, const std::string& v) { batch.put(k, v); },
      [&](const std::string& k) { batch.del(k); });
  return batch;
}

inline void apply_to_model(uint64_t seed, uint64_t t, uint64_t b,
                           std::map<std::string, std::string>* model) {
  for_each_op(
      seed, t, b, [&](const std::string& k, const std::string& v) { (*model)[k] = v; },
      [&](const std::string& k) { model->erase(k); });
}

}  // namespace tessera::crash
