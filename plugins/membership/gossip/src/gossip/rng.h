// Rng: the random source the gossip core draws its choices from (probe order, helpers for
// indirect probes, push-pull partners).
//
// Purpose: the core never owns randomness; the host injects it (a seeded simulator stream in
// tests, any decent generator in production), so that a seed reproduces every choice.
// Thread-safety: the core calls it from its own thread only. Ownership: borrowed by the core,
// must outlive it.
#pragma once

#include <cstdint>

namespace tessera::gossip {

class Rng {
 public:
  virtual ~Rng() = default;
  // Uniform in [0, n). REQUIRES: n > 0.
  virtual uint64_t uniform(uint64_t n) = 0;
};

}  // namespace tessera::gossip
