// Rng: the one deterministic random source of a simulated run.
//
// Purpose: every random choice of a simulation (delays, drops, faults, workload, and the
// election jitter handed to protocol cores) comes from one of these, seeded from one 64-bit
// seed, so that replaying the seed replays the run bit for bit. xoshiro256** seeded through
// splitmix64; no global state.
// Thread-safety: none; one owner. Ownership: plain value.
#pragma once

#include <cstdint>

namespace tessera::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : state_) s = splitmix64(x);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n). REQUIRES: n > 0. Multiply-shift: the bias is below 2^-32 for the small
  // ranges a simulation uses, and it needs no rejection loop.
  uint64_t uniform(uint64_t n) {
    return static_cast<uint64_t>((static_cast<__uint128_t>(next_u64()) * n) >> 64);
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + uniform(hi - lo + 1); }

  // True with probability p.
  bool chance(double p) { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53 < p; }

  // An independent stream, for a component that must not perturb its parent's sequence.
  Rng fork() { return Rng(next_u64()); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace tessera::sim
