// The generators checked statistically with fixed seeds: each test draws
// enough samples that the tolerance (5 standard deviations, or a chi-square
// bound far in the tail) is never crossed by chance, and replays any seed
// from STRATA_SEED.
#include "bench/driver/generators.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "bench/driver/ycsb.h"
#include "tests/testing/test_util.h"

namespace strata::bench {
namespace {

// |observed - expected| within 5 sigma of a binomial count.
void ExpectCount(uint64_t observed, uint64_t draws, double p, const std::string& what) {
  const double expected = draws * p;
  const double sigma = std::sqrt(draws * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(observed), expected, 5 * sigma + 1) << what;
}

TEST(GeneratorsTest, UniformPassesChiSquare) {
  const uint64_t seed = testing::TestSeed(11);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  Random rng(seed);
  constexpr int kBuckets = 100;
  constexpr int kDraws = 200000;
  std::vector<uint64_t> counts(kBuckets);
  for (int i = 0; i < kDraws; ++i) ++counts[rng.Uniform(kBuckets)];
  double chi2 = 0;
  const double expected = static_cast<double>(kDraws) / kBuckets;
  for (uint64_t c : counts) chi2 += (c - expected) * (c - expected) / expected;
  // df = 99: mean 99, sd 14; 99 + 6 sd.
  EXPECT_LT(chi2, 99 + 6 * std::sqrt(2.0 * 99));
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) sum += rng.NextDouble();
  EXPECT_NEAR(sum / kDraws, 0.5, 0.005);
}

TEST(GeneratorsTest, ZipfianMatchesItsDefinition) {
  const uint64_t seed = testing::TestSeed(12);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  constexpr uint64_t kItems = 1000;
  constexpr uint64_t kDraws = 400000;
  Random rng(seed);
  Zipfian zipf(kItems);
  const double zeta = Zipfian::Zeta(0, kItems, Zipfian::kYcsbTheta, 0);
  EXPECT_NEAR(zipf.zetan(), zeta, 1e-9);
  std::vector<uint64_t> counts(kItems);
  for (uint64_t i = 0; i < kDraws; ++i) {
    const uint64_t v = zipf.Next(&rng);
    ASSERT_LT(v, kItems);
    ++counts[v];
  }
  // P(rank r) = (1 / (r+1)^theta) / zeta for the head of the distribution,
  // which Gray's approximation reproduces exactly for ranks 0 and 1.
  for (uint64_t r = 0; r < 2; ++r) {
    ExpectCount(counts[r], kDraws, std::pow(r + 1.0, -Zipfian::kYcsbTheta) / zeta,
                fmt::format("rank {}", r));
  }
  // Popularity falls with rank, and the head takes its share.
  uint64_t head = 0;
  double head_p = 0;
  for (uint64_t r = 0; r < 10; ++r) {
    head += counts[r];
    head_p += std::pow(r + 1.0, -Zipfian::kYcsbTheta) / zeta;
  }
  EXPECT_NEAR(static_cast<double>(head) / kDraws, head_p, 0.02);
  EXPECT_GT(counts[0], counts[9]);
  EXPECT_GT(counts[9], counts[99]);
}

TEST(GeneratorsTest, ZipfianGrowsIncrementally) {
  Zipfian grown(100);
  grown.SetItems(5000);
  Zipfian direct(5000);
  EXPECT_NEAR(grown.zetan(), direct.zetan(), 1e-9);
  EXPECT_EQ(grown.items(), 5000u);
}

TEST(GeneratorsTest, ScrambledZipfianScattersTheHotItems) {
  const uint64_t seed = testing::TestSeed(13);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  constexpr uint64_t kItems = 10000;
  constexpr uint64_t kDraws = 300000;
  Random rng(seed);
  ScrambledZipfian gen(kItems);
  std::vector<uint64_t> counts(kItems);
  for (uint64_t i = 0; i < kDraws; ++i) {
    const uint64_t v = gen.Next(&rng);
    ASSERT_LT(v, kItems);
    ++counts[v];
  }
  // The hottest item is the hash of rank 0, with rank 0's probability.
  const uint64_t hottest = Fnv1a64(0) % kItems;
  EXPECT_EQ(std::max_element(counts.begin(), counts.end()) - counts.begin(),
            static_cast<ptrdiff_t>(hottest));
  const double zeta = Zipfian::Zeta(0, kItems, Zipfian::kYcsbTheta, 0);
  ExpectCount(counts[hottest], kDraws, 1 / zeta, "hottest");
  // Scattered: the hot items are not the low key numbers.
  uint64_t low = 0;
  for (uint64_t i = 0; i < kItems / 100; ++i) low += counts[i];
  EXPECT_LT(static_cast<double>(low) / kDraws, 0.1);
}

TEST(GeneratorsTest, LatestFavoursTheNewestRecords) {
  const uint64_t seed = testing::TestSeed(14);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  constexpr uint64_t kRecords = 1000;
  constexpr uint64_t kDraws = 200000;
  Random rng(seed);
  SkewedLatest latest(kRecords);
  const double zeta = Zipfian::Zeta(0, kRecords, Zipfian::kYcsbTheta, 0);
  std::vector<uint64_t> counts(kRecords);
  for (uint64_t i = 0; i < kDraws; ++i) ++counts[latest.Next(&rng, kRecords)];
  ExpectCount(counts[kRecords - 1], kDraws, 1 / zeta, "newest");
  ExpectCount(counts[kRecords - 2], kDraws, std::pow(2.0, -Zipfian::kYcsbTheta) / zeta, "second");
  // After inserts the newest record is the hottest one.
  std::vector<uint64_t> grown(kRecords + 500);
  for (uint64_t i = 0; i < kDraws; ++i) {
    const uint64_t v = latest.Next(&rng, kRecords + 500);
    ASSERT_LT(v, kRecords + 500);
    ++grown[v];
  }
  EXPECT_EQ(std::max_element(grown.begin(), grown.end()) - grown.begin(),
            static_cast<ptrdiff_t>(kRecords + 499));
}

TEST(GeneratorsTest, PermutationIsABijection) {
  for (uint64_t n : {1ull, 2ull, 3ull, 1000ull, 4096ull, 100003ull}) {
    Permutation perm(n, 42);
    std::vector<bool> seen(n);
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t v = perm(i);
      ASSERT_LT(v, n);
      ASSERT_FALSE(seen[v]) << "n=" << n << " i=" << i;
      seen[v] = true;
    }
  }
  // Shuffled, and a function of the seed.
  Permutation a(1000, 1), b(1000, 2);
  int fixed = 0, same = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    fixed += a(i) == i;
    same += a(i) == b(i);
  }
  EXPECT_LT(fixed, 20);
  EXPECT_LT(same, 20);
}

TEST(GeneratorsTest, KeysSortLikeTheirNumbers) {
  std::string a, b;
  for (uint64_t n : {0ull, 1ull, 255ull, 256ull, 65535ull, 1ull << 40}) {
    FormatKey(n, 16, &a);
    FormatKey(n + 1, 16, &b);
    EXPECT_EQ(a.size(), 16u);
    EXPECT_LT(a, b) << n;
  }
  FormatKey(7, 24, &a);
  EXPECT_EQ(a.size(), 24u);
}

TEST(GeneratorsTest, ValuesCompressAsAsked) {
  for (double compressibility : {0.0, 0.5, 0.9}) {
    SCOPED_TRACE(fmt::format("compressibility={}", compressibility));
    ValueGenerator gen(7, compressibility, 1000);
    std::string data;
    for (int i = 0; i < 256; ++i) data += gen.Next();
    std::string out(ZSTD_compressBound(data.size()), '\0');
    const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
    ASSERT_FALSE(ZSTD_isError(n));
    const double saved = 1.0 - static_cast<double>(n) / data.size();
    // Random printable bytes still carry ~6.6 bits of 8, so even
    // "incompressible" values shrink by up to ~18%.
    EXPECT_GT(saved, compressibility - 0.05);
    EXPECT_LT(saved, compressibility + 0.25);
  }
  ValueGenerator a(9, 0.5, 100), b(9, 0.5, 100);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.Next(), b.Next());
}

TEST(YcsbTest, CoreWorkloadsFollowTheSpec) {
  struct Want {
    char letter;
    double read, update, insert, scan, rmw;
    RequestDistribution dist;
  };
  const Want wants[] = {
      {'a', 0.5, 0.5, 0, 0, 0, RequestDistribution::kZipfian},
      {'b', 0.95, 0.05, 0, 0, 0, RequestDistribution::kZipfian},
      {'c', 1, 0, 0, 0, 0, RequestDistribution::kZipfian},
      {'d', 0.95, 0, 0.05, 0, 0, RequestDistribution::kLatest},
      {'e', 0, 0, 0.05, 0.95, 0, RequestDistribution::kZipfian},
      {'f', 0.5, 0, 0, 0, 0.5, RequestDistribution::kZipfian},
  };
  for (const Want& w : wants) {
    Result<YcsbSpec> s = CoreWorkload(w.letter);
    ASSERT_TRUE(s.ok());
    EXPECT_DOUBLE_EQ(s->read, w.read) << w.letter;
    EXPECT_DOUBLE_EQ(s->update, w.update) << w.letter;
    EXPECT_DOUBLE_EQ(s->insert, w.insert) << w.letter;
    EXPECT_DOUBLE_EQ(s->scan, w.scan) << w.letter;
    EXPECT_DOUBLE_EQ(s->read_modify_write, w.rmw) << w.letter;
    EXPECT_EQ(s->distribution, w.dist) << w.letter;
    EXPECT_EQ(s->scan_length_max, 100u);
    EXPECT_FALSE(s->scan_length_zipfian);
  }
  EXPECT_TRUE(CoreWorkload('g').status().IsInvalidArgument());
}

TEST(YcsbTest, PropertyFileParses) {
  std::string ignored;
  Result<YcsbSpec> s = ParseYcsbProperties(
      "# custom\nworkload=site.ycsb.workloads.CoreWorkload\nreadproportion=0.7\n"
      "updateproportion = 0.2\nscanproportion=0.1\nrequestdistribution=uniform\n"
      "maxscanlength=10\nscanlengthdistribution=zipfian\nfieldcount=10\n",
      &ignored);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->read, 0.7);
  EXPECT_DOUBLE_EQ(s->update, 0.2);
  EXPECT_DOUBLE_EQ(s->scan, 0.1);
  EXPECT_EQ(s->distribution, RequestDistribution::kUniform);
  EXPECT_EQ(s->scan_length_max, 10u);
  EXPECT_TRUE(s->scan_length_zipfian);
  EXPECT_EQ(ignored, "workload,fieldcount");
}

TEST(YcsbTest, PropertyFileErrorsNameTheLine) {
  std::string ignored;
  Status s = ParseYcsbProperties("readproportion=0.5\nupdateproportion=abc\n", &ignored).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  s = ParseYcsbProperties("requestdistribution=hotspot\nreadproportion=1\n", &ignored).status();
  EXPECT_NE(s.message().find("uniform|zipfian|latest"), std::string::npos) << s.message();
  s = ParseYcsbProperties("no equals sign\n", &ignored).status();
  EXPECT_NE(s.message().find("key=value"), std::string::npos) << s.message();
  s = ParseYcsbProperties("readproportion=0\n", &ignored).status();
  EXPECT_NE(s.message().find("all operation proportions are 0"), std::string::npos);
  EXPECT_TRUE(LoadYcsbPropertyFile("/nonexistent/w.properties", &ignored).status()
                  .IsInvalidArgument());
}

}  // namespace
}  // namespace strata::bench
