// Block cache: byte budget, LRU eviction, hit/miss counts, pinned charges,
// and concurrent readers of one table (run under the tsan preset).
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <random>
#include <thread>

#include "lsm/block_builder.h"
#include "lsm/block_cache.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::IKey;
using testing::Model;

std::shared_ptr<const Block> BlockOfBytes(size_t value_bytes) {
  BlockBuilder builder(16);
  builder.Add(IKey("k", 1), std::string(value_bytes, 'v'));
  std::shared_ptr<const Block> block;
  EXPECT_TRUE(Block::Parse(std::string(builder.Finish()), "f", 0, &block).ok());
  return block;
}

TEST(BlockCache, BudgetIsRespected) {
  constexpr size_t kCapacity = 64 * 1024;
  BlockCache cache(kCapacity, 2);
  for (uint64_t i = 0; i < 500; ++i) {
    cache.Insert(7, i * 4096, BlockOfBytes(1000));
    ASSERT_LE(cache.usage_bytes(), kCapacity);
  }
  EXPECT_LT(cache.block_count(), 500u);
  EXPECT_GT(cache.block_count(), 30u);
  // A block bigger than a shard's slice is not cached at all.
  cache.Insert(8, 0, BlockOfBytes(kCapacity));
  EXPECT_EQ(cache.Lookup(8, 0), nullptr);
  EXPECT_LE(cache.usage_bytes(), kCapacity);
}

TEST(BlockCache, LeastRecentlyUsedIsEvictedFirst) {
  const size_t charge = BlockOfBytes(1000)->bytes() + kBlockCacheEntryOverheadBytes;
  BlockCache cache(4 * charge, /*shard_bits=*/0);
  for (uint64_t i = 0; i < 4; ++i) cache.Insert(1, i, BlockOfBytes(1000));
  EXPECT_EQ(cache.block_count(), 4u);
  ASSERT_NE(cache.Lookup(1, 0), nullptr);  // 0 becomes the most recent
  cache.Insert(1, 4, BlockOfBytes(1000));  // evicts 1, the least recent
  EXPECT_NE(cache.Lookup(1, 0), nullptr);
  EXPECT_EQ(cache.Lookup(1, 1), nullptr);
  EXPECT_NE(cache.Lookup(1, 2), nullptr);
  EXPECT_NE(cache.Lookup(1, 4), nullptr);
  EXPECT_EQ(cache.hits(), 4u);
  EXPECT_EQ(cache.misses(), 1u);
  // Same offset, other file: a different key.
  EXPECT_EQ(cache.Lookup(2, 0), nullptr);
  cache.Erase(1, 0);
  EXPECT_EQ(cache.Lookup(1, 0), nullptr);
  EXPECT_EQ(cache.block_count(), 3u);
}

TEST(BlockCache, EvictedBlockStaysAliveForItsReader) {
  BlockCache cache(2000, 0);
  cache.Insert(1, 0, BlockOfBytes(1000));
  std::shared_ptr<const Block> held = cache.Lookup(1, 0);
  cache.Insert(1, 1, BlockOfBytes(1000));  // evicts (1, 0)
  EXPECT_EQ(cache.Lookup(1, 0), nullptr);
  auto it = held->NewIterator();
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value().size(), 1000u);
}

TEST(BlockCache, TablesChargeIndexAndFilter) {
  strata::testing::ScratchDir dir;
  Model model;
  for (int i = 0; i < 3000; ++i) model[IKey(fmt::format("key{:06}", i), i + 1)] = "value";
  const std::string path = dir.Join("000005.sst");
  ASSERT_TRUE(testing::BuildTable(path, TableOptions{}, model).ok());
  BlockCache cache(1 << 20);
  {
    std::unique_ptr<Table> table;
    ASSERT_TRUE(testing::OpenTable(path, TableOptions{}, 5, &cache, &table).ok());
    const TableProperties& props = table->properties();
    EXPECT_GT(cache.pinned_bytes(), 3000u * 10 / 8);  // at least the filter
    EXPECT_LE(cache.pinned_bytes(), props.index_bytes + props.filter_bytes);
    EXPECT_EQ(cache.usage_bytes(), cache.pinned_bytes());

    // First scan misses every block, the second hits every block.
    for (int pass = 0; pass < 2; ++pass) {
      auto it = table->NewIterator(ReadOptions{});
      size_t n = 0;
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
      ASSERT_TRUE(it->status().ok());
      ASSERT_EQ(n, model.size());
    }
    EXPECT_EQ(cache.misses(), props.data_block_count);
    EXPECT_EQ(cache.hits(), props.data_block_count);
    EXPECT_GT(cache.usage_bytes(), cache.pinned_bytes());

    // fill_cache = false reads around the cache.
    BlockCache other(1 << 20);
    std::unique_ptr<Table> t2;
    ASSERT_TRUE(testing::OpenTable(path, TableOptions{}, 6, &other, &t2).ok());
    ReadOptions no_fill;
    no_fill.fill_cache = false;
    auto it = t2->NewIterator(no_fill);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
    }
    EXPECT_EQ(other.block_count(), 0u);
  }
  EXPECT_EQ(cache.pinned_bytes(), 0u);
}

TEST(BlockCache, ConcurrentReaders) {
  strata::testing::ScratchDir dir;
  const uint64_t seed = strata::testing::TestSeed(31);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const Model model = testing::RandomEntries(seed, 3000);
  const std::string path = dir.Join("000006.sst");
  TableOptions options;
  options.block_bytes = 1024;
  ASSERT_TRUE(testing::BuildTable(path, options, model).ok());
  // Small enough that readers keep evicting each other's blocks.
  BlockCache cache(32 * 1024, 2);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(testing::OpenTable(path, options, 6, &cache, &table).ok());
  std::vector<std::string> keys;
  for (const auto& [k, v] : model) keys.push_back(k);

  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> errors(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      for (int i = 0; i < 400; ++i) {
        const std::string& k = keys[rng() % keys.size()];
        bool found = false;
        std::string ikey, value;
        Status s = table->Get(ReadOptions{}, k, &found, &ikey, &value, nullptr);
        if (!s.ok() || !found || ikey != k || value != model.at(k)) ++errors[t];
        if (i % 100 == 0) {
          auto it = table->NewIterator(ReadOptions{});
          auto e = model.begin();
          for (it->SeekToFirst(); it->Valid(); it->Next(), ++e) {
            if (e == model.end() || it->key() != e->first) {
              ++errors[t];
              break;
            }
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], 0) << "thread " << t;
  EXPECT_LE(cache.usage_bytes(), cache.capacity_bytes());
  EXPECT_GT(cache.hits(), 0u);
  EXPECT_GT(cache.misses(), 0u);
}

// Random inserts, lookups and erases on one shard against a list-based LRU
// model: the same blocks stay, in the same order, with the same byte usage.
// Many keys share the first few buckets' chains and force the table to grow.
TEST(BlockCache, MatchesLruModel) {
  const uint64_t seed = strata::testing::TestSeed(7);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  std::vector<std::shared_ptr<const Block>> blocks;
  for (int i = 0; i < 16; ++i) blocks.push_back(BlockOfBytes(100 + 97 * i));
  const size_t capacity = 200 * 1024;
  BlockCache cache(capacity, /*shard_bits=*/0);

  struct ModelEntry {
    uint64_t file_number, offset;
    const Block* block;
    size_t charge;
  };
  std::list<ModelEntry> lru;  // front = most recent
  size_t model_usage = 0;
  auto find = [&](uint64_t f, uint64_t o) {
    return std::find_if(lru.begin(), lru.end(),
                        [&](const ModelEntry& e) { return e.file_number == f && e.offset == o; });
  };
  for (int step = 0; step < 20000; ++step) {
    const uint64_t f = rng() % 4 + 1;
    const uint64_t o = (rng() % 128) * 4096;
    auto it = find(f, o);
    switch (rng() % 4) {
      case 0:
      case 1: {  // lookup
        std::shared_ptr<const Block> got = cache.Lookup(f, o);
        if (it == lru.end()) {
          ASSERT_EQ(got, nullptr) << "step " << step;
        } else {
          ASSERT_EQ(got.get(), it->block) << "step " << step;
          lru.splice(lru.begin(), lru, it);
        }
        break;
      }
      case 2: {  // insert (replaces)
        const auto& block = blocks[rng() % blocks.size()];
        if (it != lru.end()) {
          model_usage -= it->charge;
          lru.erase(it);
        }
        const size_t charge = block->bytes() + kBlockCacheEntryOverheadBytes;
        lru.push_front(ModelEntry{f, o, block.get(), charge});
        model_usage += charge;
        while (model_usage > capacity) {
          model_usage -= lru.back().charge;
          lru.pop_back();
        }
        cache.Insert(f, o, block);
        break;
      }
      case 3:  // erase
        if (it != lru.end()) {
          model_usage -= it->charge;
          lru.erase(it);
        }
        cache.Erase(f, o);
        break;
    }
    ASSERT_EQ(cache.usage_bytes(), model_usage) << "step " << step;
    ASSERT_EQ(cache.block_count(), lru.size()) << "step " << step;
  }
  EXPECT_GT(lru.size(), 64u);  // more entries than the initial buckets
}

}  // namespace
}  // namespace strata::lsm
