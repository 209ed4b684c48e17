// Bloom filter: no false negatives, measured false-positive rate.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "lsm/bloom.h"

namespace strata::lsm {
namespace {

std::string Filter(int bits_per_key, int key_count, const char* prefix) {
  BloomBuilder builder(bits_per_key);
  for (int i = 0; i < key_count; ++i) builder.AddHash(BloomHash(fmt::format("{}{}", prefix, i)));
  return builder.Finish();
}

double FalsePositiveRate(const std::string& filter, int probes) {
  int positives = 0;
  for (int i = 0; i < probes; ++i) {
    positives += BloomMayMatch(filter, BloomHash(fmt::format("absent-{}", i)));
  }
  return static_cast<double>(positives) / probes;
}

TEST(Bloom, NoFalseNegatives) {
  for (int n : {0, 1, 10, 1000, 20000}) {
    const std::string filter = Filter(10, n, "key-");
    ASSERT_TRUE(BloomValid(filter));
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(BloomMayMatch(filter, BloomHash(fmt::format("key-{}", i)))) << n << " " << i;
    }
  }
}

TEST(Bloom, FalsePositiveRateAtTenBitsPerKey) {
  constexpr int kKeys = 20000;
  const std::string filter = Filter(10, kKeys, "key-");
  EXPECT_EQ(filter.size(), kKeys * 10 / 8 + 1);
  EXPECT_EQ(filter.back(), 7);  // round(10 * ln 2)
  const double rate = FalsePositiveRate(filter, 100000);
  std::printf("bloom false-positive rate at 10 bits/key: %.3f%%\n", 100 * rate);
  EXPECT_LT(rate, 0.02);
}

TEST(Bloom, FewerBitsMoreFalsePositives) {
  const double rate5 = FalsePositiveRate(Filter(5, 10000, "k"), 50000);
  const double rate20 = FalsePositiveRate(Filter(20, 10000, "k"), 50000);
  EXPECT_LT(rate20, rate5);
  EXPECT_LT(rate5, 0.15);
}

TEST(Bloom, MalformedFilterNeverHidesKeys) {
  EXPECT_FALSE(BloomValid(""));
  EXPECT_FALSE(BloomValid(std::string(8, '\0')));  // probe count 0
  EXPECT_TRUE(BloomMayMatch("", BloomHash("x")));
  EXPECT_TRUE(BloomMayMatch(std::string(8, '\0'), BloomHash("x")));
  std::string too_many(8, '\0');
  too_many.back() = static_cast<char>(kBloomProbesMax + 1);
  EXPECT_FALSE(BloomValid(too_many));
}

}  // namespace
}  // namespace strata::lsm
