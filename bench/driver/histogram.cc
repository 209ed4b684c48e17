#include "bench/driver/histogram.h"

#include <algorithm>
#include <bit>
#include <charconv>

#include "core/assert.h"

namespace strata::bench {

int Histogram::BucketIndex(uint64_t nanos) {
  if (nanos < kSubBuckets) return static_cast<int>(nanos);
  const int msb = 63 - std::countl_zero(nanos);           // >= kSubBucketBits
  const int shift = msb - kSubBucketBits;                 // >= 0
  const int sub = static_cast<int>((nanos >> shift) & (kSubBuckets - 1));
  return (shift + 1) * kSubBuckets + sub;
}

uint64_t Histogram::BucketLow(int index) {
  STRATA_ASSERT(index >= 0 && index < kBucketCount);
  if (index < kSubBuckets) return static_cast<uint64_t>(index);
  const int shift = index / kSubBuckets - 1;
  const uint64_t sub = static_cast<uint64_t>(index % kSubBuckets);
  return (static_cast<uint64_t>(kSubBuckets) + sub) << shift;
}

uint64_t Histogram::BucketHigh(int index) {
  if (index + 1 >= kBucketCount) return ~0ull;
  return BucketLow(index + 1);
}

void Histogram::Record(uint64_t nanos) {
  ++buckets_[BucketIndex(nanos)];
  ++count_;
  sum_ += nanos;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void Histogram::Merge(const Histogram& other) {
  for (int i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double Histogram::Percentile(double fraction) const {
  if (count_ == 0) return 0;
  const double target = std::clamp(fraction, 0.0, 1.0) * static_cast<double>(count_);
  double seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    if (buckets_[i] == 0) continue;
    const double next = seen + static_cast<double>(buckets_[i]);
    if (next >= target) {
      const double low = static_cast<double>(BucketLow(i));
      const double high = static_cast<double>(BucketHigh(i));
      const double within = (target - seen) / static_cast<double>(buckets_[i]);
      const double v = low + within * (high - low);
      return std::clamp(v, static_cast<double>(min_), static_cast<double>(max_));
    }
    seen = next;
  }
  return static_cast<double>(max_);
}

std::vector<std::pair<double, double>> Histogram::Cdf() const {
  std::vector<std::pair<double, double>> points;
  if (count_ == 0) return points;
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    if (buckets_[i] == 0) continue;
    seen += buckets_[i];
    const double edge = std::min(static_cast<double>(BucketHigh(i)), static_cast<double>(max_));
    points.emplace_back(edge, static_cast<double>(seen) / static_cast<double>(count_));
  }
  return points;
}

std::string Histogram::Encode() const {
  std::string out = std::to_string(count_) + " " + std::to_string(sum_) + " " +
                    std::to_string(min_) + " " + std::to_string(max_) + " ";
  bool first = true;
  for (int i = 0; i < kBucketCount; ++i) {
    if (buckets_[i] == 0) continue;
    if (!first) out += ',';
    first = false;
    out += std::to_string(i) + ":" + std::to_string(buckets_[i]);
  }
  if (first) out += '-';
  return out;
}

namespace {

bool TakeU64(std::string_view* text, char stop, uint64_t* out) {
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, *out);
  if (ec != std::errc()) return false;
  if (ptr != end) {
    if (*ptr != stop) return false;
    ++ptr;
  }
  text->remove_prefix(static_cast<size_t>(ptr - text->data()));
  return true;
}

}  // namespace

Result<Histogram> Histogram::Decode(std::string_view text) {
  Histogram h;
  const Status bad = Status::Corruption("malformed histogram '" + std::string(text) + "'");
  if (!TakeU64(&text, ' ', &h.count_) || !TakeU64(&text, ' ', &h.sum_) ||
      !TakeU64(&text, ' ', &h.min_) || !TakeU64(&text, ' ', &h.max_)) {
    return bad;
  }
  if (text == "-") return h;
  uint64_t total = 0;
  while (!text.empty()) {
    uint64_t index = 0, n = 0;
    if (!TakeU64(&text, ':', &index) || !TakeU64(&text, ',', &n) || index >= kBucketCount) {
      return bad;
    }
    h.buckets_[index] += n;
    total += n;
  }
  if (total != h.count_) return bad;
  return h;
}

}  // namespace strata::bench
