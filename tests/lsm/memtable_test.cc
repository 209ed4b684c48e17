// SkipList and MemTable: ordering, lookups by sequence, and readers running
// while one writer inserts.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "lsm/arena.h"
#include "lsm/memtable.h"
#include "lsm/skiplist.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

struct U64Compare {
  int operator()(uint64_t a, uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};

TEST(SkipListTest, InsertAndIterateInOrder) {
  const uint64_t seed = testing::TestSeed(1);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  Arena arena;
  SkipList<uint64_t, U64Compare> list(U64Compare{}, &arena);
  std::set<uint64_t> model;
  for (int i = 0; i < 5000; ++i) {
    const uint64_t k = rng() % 100000;
    if (model.insert(k).second) list.Insert(k);
  }
  SkipList<uint64_t, U64Compare>::Iterator it(&list);
  it.SeekToFirst();
  for (uint64_t k : model) {
    ASSERT_TRUE(it.Valid());
    EXPECT_EQ(it.key(), k);
    it.Next();
  }
  EXPECT_FALSE(it.Valid());
  for (int i = 0; i < 1000; ++i) {
    const uint64_t target = rng() % 100001;
    it.Seek(target);
    auto m = model.lower_bound(target);
    ASSERT_EQ(it.Valid(), m != model.end());
    if (it.Valid()) {
      EXPECT_EQ(it.key(), *m);
    }
    EXPECT_EQ(list.Contains(target), model.count(target) == 1);
  }
}

// Readers walk the list while the writer inserts; every key a reader sees
// must be in order, and keys published before the reader started are there.
TEST(SkipListTest, ConcurrentReadersDuringWrites) {
  Arena arena;
  SkipList<uint64_t, U64Compare> list(U64Compare{}, &arena);
  constexpr uint64_t kKeys = 20000;
  std::atomic<uint64_t> published{0};  // keys 1..published are in the list
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> failures{0};
  auto reader = [&] {
    while (!stop.load(std::memory_order_acquire)) {
      const uint64_t known = published.load(std::memory_order_acquire);
      SkipList<uint64_t, U64Compare>::Iterator it(&list);
      uint64_t prev = 0, seen = 0;
      for (it.SeekToFirst(); it.Valid(); it.Next()) {
        if (it.key() <= prev) failures.fetch_add(1);
        prev = it.key();
        ++seen;
      }
      if (seen < known) failures.fetch_add(1);
      if (known > 0 && !list.Contains(known)) failures.fetch_add(1);
    }
  };
  std::thread r1(reader), r2(reader);
  for (uint64_t k = 1; k <= kKeys; ++k) {
    list.Insert(k);
    published.store(k, std::memory_order_release);
  }
  stop.store(true, std::memory_order_release);
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0u);
}

TEST(MemTableTest, GetSeesNewestVisibleVersion) {
  MemTable mem(0);
  mem.Add(1, ValueType::kValue, "a", "a1");
  mem.Add(2, ValueType::kValue, "b", "b2");
  mem.Add(3, ValueType::kDeletion, "a", "");
  mem.Add(4, ValueType::kValue, "a", "a4");
  ValueType type;
  std::string value;
  ASSERT_TRUE(mem.Get("a", 1, &type, &value));
  EXPECT_EQ(type, ValueType::kValue);
  EXPECT_EQ(value, "a1");
  ASSERT_TRUE(mem.Get("a", 3, &type, &value));
  EXPECT_EQ(type, ValueType::kDeletion);
  ASSERT_TRUE(mem.Get("a", 100, &type, &value));
  EXPECT_EQ(value, "a4");
  EXPECT_FALSE(mem.Get("b", 1, &type, &value));
  EXPECT_FALSE(mem.Get("c", 100, &type, &value));
  EXPECT_FALSE(mem.Get("", 100, &type, &value));
  EXPECT_EQ(mem.entry_count(), 4u);
  EXPECT_EQ(mem.largest_sequence(), 4u);
  EXPECT_GT(mem.ApproximateMemoryUsage(), 0u);
}

TEST(MemTableTest, IteratorOrdersByUserKeyThenNewestFirst) {
  MemTable mem(0);
  mem.Add(5, ValueType::kValue, "b", "b5");
  mem.Add(7, ValueType::kValue, "b", "b7");
  mem.Add(6, ValueType::kValue, "a", "a6");
  mem.Add(8, ValueType::kValue, std::string("b\0", 2), "bz");
  auto it = mem.NewIterator();
  std::vector<std::string> seen;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ParsedInternalKey p;
    ASSERT_TRUE(ParseInternalKey(it->key(), &p));
    seen.push_back(fmt::format("{}@{}={}", std::string(p.user_key), p.sequence, it->value()));
  }
  const std::vector<std::string> expected = {"a@6=a6", "b@7=b7", "b@5=b5",
                                             std::string("b\0@8=bz", 7)};
  EXPECT_EQ(seen, expected);
  it->Seek(LookupKey("b", 6));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "b5");
}

TEST(MemTableTest, LargeValuesAndManyEntries) {
  MemTable mem(0);
  const std::string big(300 * 1024, 'x');
  mem.Add(1, ValueType::kValue, "big", big);
  for (int i = 0; i < 10000; ++i) {
    mem.Add(2 + i, ValueType::kValue, fmt::format("k{:06}", i), fmt::format("v{}", i));
  }
  ValueType type;
  std::string value;
  ASSERT_TRUE(mem.Get("big", 10, &type, &value));
  EXPECT_EQ(value, big);
  ASSERT_TRUE(mem.Get("k005000", kMaxSequenceNumber, &type, &value));
  EXPECT_EQ(value, "v5000");
  EXPECT_GE(mem.ApproximateMemoryUsage(), big.size());
}

}  // namespace
}  // namespace strata::lsm
