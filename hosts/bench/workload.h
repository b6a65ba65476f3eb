// Workload: the keys and values of a load run.
//
// Keys are "k" and the key's index in decimal, zero-padded to the key's length; a key's length
// is a fixed function of its index and the seed (weighted by the key size mix), so the preload
// and every connection agree on each key's bytes. Values are windows into one buffer of random
// bytes, with lengths drawn from the value size mix: no allocation or generation per request.
//
// Thread-safety: a Workload is cheap to copy and each load thread takes its own copy (a
// distribution is not safe to share between threads); the random bytes are shared, read-only.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "load_options.h"
#include "tessera/bytes.h"
#include "tessera/status.h"

namespace tessera::bench {

struct SizeWeight {
  uint32_t bytes = 0;
  double weight = 1;
};

// "100,1000:2,10000:0.5": sizes in bytes, each with an optional relative weight (default 1).
// InvalidArgument naming `option` when an item is not SIZE or SIZE:WEIGHT.
Result<std::vector<SizeWeight>> parse_size_mix(const std::string& text, const std::string& option);

class Workload {
 public:
  // The key and value size mixes of `options`. InvalidArgument when a mix does not parse or a
  // key size cannot hold "k" and the largest index (keys would not be distinct).
  static Result<Workload> make(const LoadOptions& options);

  // The length of key `index`.
  uint32_t key_bytes(uint64_t index) const;

  // Writes key `index` to `out`, which has room for key_bytes(index) bytes.
  void fill_key(uint64_t index, char* out) const;

  // Key `index` as a string (preload and tests; the request path uses fill_key).
  std::string key(uint64_t index) const;

  // A value with a length drawn from the value size mix; valid as long as this Workload or a
  // copy of it lives.
  ByteView value(std::mt19937_64& rng);

  // The largest value and key in the mixes, for buffer and message sizing.
  uint32_t value_bytes_max() const { return value_bytes_max_; }
  uint32_t key_bytes_max() const { return key_bytes_max_; }

  // The mixes as given, for the report's header.
  const std::string& key_sizes_text() const { return key_sizes_text_; }

 private:
  Workload(uint64_t seed, std::vector<SizeWeight> key_mix, std::vector<SizeWeight> value_mix);

  uint64_t seed_ = 0;
  std::vector<SizeWeight> key_mix_;
  std::vector<double> key_weight_ends_;  // running sums of the key mix's weights
  std::vector<SizeWeight> value_mix_;
  std::discrete_distribution<size_t> value_sizes_;
  std::shared_ptr<const std::string> random_bytes_;
  uint32_t value_bytes_max_ = 0;
  uint32_t key_bytes_max_ = 0;
  std::string key_sizes_text_;
};

}  // namespace tessera::bench
