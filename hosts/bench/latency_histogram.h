// LatencyHistogram: a fixed-size log-linear histogram of latencies in nanoseconds.
//
// Exact below 256 ns, then 128 buckets per power of two, so a reported percentile is within 1%
// of the true value. Fixed size (58 KiB): recording never allocates, whatever the run's length.
//
// Thread-safety: none; each load thread records into its own histogram and the results are
// merged once the threads have stopped.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tessera::bench {

class LatencyHistogram {
 public:
  void record(uint64_t ns) {
    ++counts_[index(ns)];
    ++count_;
    max_ = std::max(max_, ns);
  }

  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
  }

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }

  // The latency below which a fraction `p` of the recorded ones lie (bucket midpoint); 0 when
  // nothing was recorded.
  uint64_t percentile(double p) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(count_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= std::max<uint64_t>(rank, 1)) return std::min(midpoint(i), max_);
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) * kSub;

  static size_t index(uint64_t v) {
    if (v < 2 * kSub) return static_cast<size_t>(v);
    const int msb = std::bit_width(v) - 1;
    const uint64_t mantissa = (v >> (msb - kSubBits)) & (kSub - 1);
    return static_cast<size_t>((msb - kSubBits + 1) * kSub + mantissa);
  }

  static uint64_t midpoint(size_t i) {
    if (i < 2 * kSub) return i;
    const int msb = static_cast<int>(i / kSub) + kSubBits - 1;
    const uint64_t mantissa = i % kSub;
    const uint64_t low = (kSub + mantissa) << (msb - kSubBits);
    return low + ((uint64_t{1} << (msb - kSubBits)) >> 1);
  }

  std::vector<uint64_t> counts_ = std::vector<uint64_t>(kBuckets, 0);
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace tessera::bench
