// MemTableFilter and the memtable lookups it guards: no false negatives
// across segment growth, a bounded false-positive rate, and readers that run
// while the single writer adds keys never miss a key published to them.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>

#include "lsm/arena.h"
#include "lsm/bloom.h"
#include "lsm/memtable.h"
#include "lsm/memtable_filter.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

std::string KeyOf(uint64_t i) { return fmt::format("key{:012}", i); }

TEST(MemTableFilterTest, EveryAddedKeyMayMatchAcrossSegments) {
  Arena arena;
  MemTableFilter filter(&arena);
  EXPECT_EQ(filter.segment_count(), 0);
  EXPECT_FALSE(filter.MayContain(BloomHash("anything")));  // empty: no false positive
  constexpr uint64_t kKeys = 200000;
  for (uint64_t i = 0; i < kKeys; ++i) filter.Add(BloomHash(KeyOf(i)));
  // 512 + 2048 + 8192 + 32768 + 131072 < 200000: the sixth segment is in use.
  EXPECT_EQ(filter.segment_count(), 6);
  for (uint64_t i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(filter.MayContain(BloomHash(KeyOf(i)))) << i;
  }
  // The filter's memory is charged to the memtable's arena.
  EXPECT_GE(arena.MemoryUsage(), kKeys * MemTableFilter::kBitsPerKey / 8);
}

TEST(MemTableFilterTest, FalsePositiveRateIsBounded) {
  const uint64_t seed = testing::TestSeed(11);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  Arena arena;
  MemTableFilter filter(&arena);
  constexpr uint64_t kKeys = 100000;
  for (uint64_t i = 0; i < kKeys; ++i) filter.Add(BloomHash(KeyOf(i)));
  constexpr int kProbes = 100000;
  int false_positives = 0;
  for (int i = 0; i < kProbes; ++i) {
    false_positives += filter.MayContain(BloomHash(KeyOf(kKeys + rng() % (1ull << 40))));
  }
  // About 1% per full segment and five segments in use: well under 10%.
  EXPECT_LT(false_positives, kProbes / 10);
}

TEST(MemTableFilterTest, MemTableGetOfAbsentKeysAndDeletions) {
  MemTable mem(0);
  for (uint64_t i = 0; i < 5000; i += 2) mem.Add(i + 1, ValueType::kValue, KeyOf(i), "v");
  mem.Add(10000, ValueType::kDeletion, KeyOf(4), "");
  ValueType type;
  std::string value;
  for (uint64_t i = 0; i < 5000; ++i) {
    const bool found = mem.Get(KeyOf(i), kMaxSequenceNumber, &type, &value);
    ASSERT_EQ(found, i % 2 == 0) << i;
  }
  ASSERT_TRUE(mem.Get(KeyOf(4), kMaxSequenceNumber, &type, &value));
  EXPECT_EQ(type, ValueType::kDeletion);
}

// One writer adds keys and then publishes how many (release), as the engine
// publishes its last sequence; readers that acquire the count must find every
// key below it, however the filter grew meanwhile.
TEST(MemTableFilterTest, ReadersSeeEveryPublishedKey) {
  MemTable mem(0);
  constexpr uint64_t kKeys = 60000;
  std::atomic<uint64_t> published{0};
  std::atomic<int> misses{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      ValueType type;
      std::string value;
      while (true) {
        const uint64_t n = published.load(std::memory_order_acquire);
        if (n > 0) {
          const uint64_t i = rng() % n;
          if (!mem.Get(KeyOf(i), kMaxSequenceNumber, &type, &value)) misses.fetch_add(1);
        }
        if (n == kKeys) return;
      }
    });
  }
  for (uint64_t i = 0; i < kKeys; ++i) {
    mem.Add(i + 1, ValueType::kValue, KeyOf(i), "v");
    published.store(i + 1, std::memory_order_release);
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(misses.load(), 0);
}

}  // namespace
}  // namespace strata::lsm
