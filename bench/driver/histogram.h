// Histogram: latency distribution of one workload, in nanoseconds.
//
// Log-linear buckets: each power of two is split into kSubBuckets linear
// buckets, so a percentile is exact to within 1/kSubBuckets (~3%) of its
// value from 1 ns to hours, in a fixed 8 KiB table. Max and min are exact.
//
// Thread safety: one thread records into a Histogram; per-thread histograms
// are merged afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "strata/status.h"

namespace strata::bench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 5;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBucketCount = (64 - kSubBucketBits + 1) * kSubBuckets;

  void Record(uint64_t nanos);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t min_nanos() const { return count_ == 0 ? 0 : min_; }
  uint64_t max_nanos() const { return max_; }
  double mean_nanos() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  // The value below which `fraction` of the samples fall (fraction in [0,1]),
  // interpolated inside its bucket and clamped to [min, max].
  double Percentile(double fraction) const;

  // (latency ns, cumulative fraction) at each non-empty bucket's upper edge:
  // the points of a CDF plot.
  std::vector<std::pair<double, double>> Cdf() const;

  // Compact text form "count sum min max idx:n,idx:n,..." for passing a
  // histogram from a child process to its parent.
  std::string Encode() const;
  static Result<Histogram> Decode(std::string_view text);

  static int BucketIndex(uint64_t nanos);
  static uint64_t BucketLow(int index);
  static uint64_t BucketHigh(int index);  // exclusive

 private:
  std::array<uint64_t, kBucketCount> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = ~0ull;
  uint64_t max_ = 0;
};

}  // namespace strata::bench
