// Backward iteration (SeekToLast/Prev) and turning around in the block, table
// and merging iterators: full scans both ways, a turn at every entry, and
// random walks, over restart intervals of 1..16 and blocks of a few entries,
// so that restart points and block boundaries are crossed at every step.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/coding.h"
#include "lsm/block.h"
#include "lsm/block_builder.h"
#include "lsm/block_cache.h"
#include "lsm/merging_iterator.h"
#include "tests/lsm_table/iterator_walk.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::Entries;
using testing::IteratorWalk;
using testing::Model;

Entries ToEntries(const Model& model) { return Entries(model.begin(), model.end()); }

std::shared_ptr<const Block> BuildBlock(const Entries& entries, int restart_interval,
                                        KeyComparator keys = CompareInternalKeys) {
  BlockBuilder builder(restart_interval);
  for (const auto& [k, v] : entries) builder.Add(k, v);
  std::shared_ptr<const Block> block;
  Status s = Block::Parse(std::string(builder.Finish()), "000009.sst", 0, &block, keys);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return block;
}

// Walks every entry both ways; each test gets its own seed for the walk.
void WalkAll(InternalIterator* it, const Entries& entries, uint64_t seed) {
  IteratorWalk<> walk(it, &entries);
  {
    SCOPED_TRACE("full scans");
    walk.FullScans();
  }
  {
    SCOPED_TRACE("turns");
    walk.TurnAtEveryEntry();
  }
  SCOPED_TRACE("random walk");
  walk.RandomWalk(seed, 3000, testing::SeekTargets(entries));
}

class BlockReverse : public ::testing::TestWithParam<int> {};

TEST_P(BlockReverse, BothDirectionsMatchModel) {
  const uint64_t seed = strata::testing::TestSeed(31);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const Entries entries = ToEntries(testing::RandomEntries(seed, 150, 20));
  auto block = BuildBlock(entries, GetParam());
  ASSERT_NE(block, nullptr);
  BlockIterator it(block.get(), CompareInternalKeys);
  WalkAll(&it, entries, seed);
}

INSTANTIATE_TEST_SUITE_P(RestartIntervals, BlockReverse, ::testing::Values(1, 2, 3, 16, 1000));

TEST(BlockReverseEdges, EmptyBlock) {
  auto block = BuildBlock({}, 16);
  ASSERT_NE(block, nullptr);
  BlockIterator it(block.get(), CompareInternalKeys);
  it.SeekToLast();
  EXPECT_FALSE(it.Valid());
  EXPECT_TRUE(it.status().ok());
}

TEST(BlockReverseEdges, OneEntry) {
  const Entries entries = {{testing::IKey("only", 5), "v"}};
  auto block = BuildBlock(entries, 16);
  ASSERT_NE(block, nullptr);
  BlockIterator it(block.get(), CompareInternalKeys);
  it.SeekToLast();
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(it.key(), entries[0].first);
  it.Prev();
  EXPECT_FALSE(it.Valid());
  it.SeekToLast();
  it.Next();
  EXPECT_FALSE(it.Valid());
  it.SeekToFirst();
  ASSERT_TRUE(it.Valid());
  it.Prev();
  EXPECT_FALSE(it.Valid());
  EXPECT_TRUE(it.status().ok());
}

// A bytewise-keyed block (as the properties block is), where Prev decodes
// keys that share prefixes with their predecessors.
TEST(BlockReverseEdges, BytewiseKeysWithSharedPrefixes) {
  Entries entries;
  for (int i = 0; i < 40; ++i) entries.push_back({fmt::format("prefix/{:03}", i * 7), "v"});
  auto block = BuildBlock(entries, 4, CompareBytewise);
  ASSERT_NE(block, nullptr);
  BlockIterator it(block.get(), CompareBytewise);
  IteratorWalk<> walk(&it, &entries, CompareBytewise);
  walk.FullScans();
  walk.TurnAtEveryEntry();
}

// Hand-made block: three prefix-compressed entries and a second restart
// point aimed at the second entry, which shares a prefix (so it is no
// restart). Prev from the third entry restarts there and must report
// Corruption, not build a wrong key. A parser that rejects the block up front
// is fine too.
TEST(BlockReverseEdges, PrevThroughBadRestartIsCorruption) {
  BlockBuilder builder(16);
  builder.Add("key1", "a");
  builder.Add("key2", "b");
  builder.Add("key3", "c");
  std::string contents(builder.Finish());
  const uint32_t restart_count = DecodeFixed32(contents.data() + contents.size() - 4);
  ASSERT_EQ(restart_count, 1u);
  contents.resize(contents.size() - 2 * sizeof(uint32_t));  // entries only
  // Entry 0: shared 0, non_shared 4, value 1, "key1", "a" -> 3 + 4 + 1 bytes.
  const uint32_t second_entry = 8;
  PutFixed32(&contents, 0);
  PutFixed32(&contents, second_entry);
  PutFixed32(&contents, 2);
  std::shared_ptr<const Block> block;
  if (!Block::Parse(contents, "000011.sst", 8192, &block).ok()) return;
  BlockIterator it(block.get(), CompareBytewise);
  it.SeekToFirst();
  it.Next();
  it.Next();
  ASSERT_TRUE(it.Valid());
  ASSERT_EQ(it.key(), "key3");
  it.Prev();
  EXPECT_FALSE(it.Valid());
  EXPECT_TRUE(it.status().IsCorruption()) << it.status().ToString();
  EXPECT_NE(it.status().ToString().find("000011.sst"), std::string::npos);
}

struct TableCase {
  size_t block_bytes;
  int restart_interval;
  bool cache;
};

class TableReverse : public ::testing::TestWithParam<TableCase> {};

TEST_P(TableReverse, BothDirectionsMatchModel) {
  const uint64_t seed = strata::testing::TestSeed(41);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  strata::testing::ScratchDir dir;
  TableOptions options;
  options.block_bytes = GetParam().block_bytes;
  options.block_restart_interval = GetParam().restart_interval;
  const Model model = testing::RandomEntries(seed, 400, 40);
  const std::string path = dir.Join("000012.sst");
  ASSERT_TRUE(testing::BuildTable(path, options, model).ok());
  BlockCache cache(1 << 20);
  std::unique_ptr<Table> table;
  Status s =
      testing::OpenTable(path, options, 12, GetParam().cache ? &cache : nullptr, &table);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto it = table->NewIterator(ReadOptions());
  WalkAll(it.get(), ToEntries(model), seed);
}

INSTANTIATE_TEST_SUITE_P(Layouts, TableReverse,
                         ::testing::Values(TableCase{1, 16, false},  // one entry per block
                                           TableCase{64, 1, false}, TableCase{256, 2, true},
                                           TableCase{4096, 16, false}),
                         [](const auto& info) {
                           return fmt::format("block{}_restart{}{}", info.param.block_bytes,
                                              info.param.restart_interval,
                                              info.param.cache ? "_cache" : "");
                         });

// Children over interleaved slices of one model, empty children among them,
// and duplicated keys across children (which come out in child order in
// both directions).
TEST(MergingReverse, BothDirectionsMatchModel) {
  const uint64_t seed = strata::testing::TestSeed(51);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const Entries all = ToEntries(testing::RandomEntries(seed, 300, 16));
  constexpr size_t kChildren = 5;
  std::vector<Entries> slices(kChildren);
  std::mt19937_64 rng(seed);
  for (const auto& e : all) {
    const size_t child = rng() % (kChildren - 1);  // the last child stays empty
    slices[child].push_back(e);
    if (rng() % 10 == 0) slices[(child + 1) % (kChildren - 1)].push_back({e.first, "dup"});
  }
  // Expected: by key, then by child index.
  std::vector<std::pair<size_t, size_t>> order;  // (child, index in slice)
  for (size_t c = 0; c < kChildren; ++c) {
    std::sort(slices[c].begin(), slices[c].end(), [](const auto& a, const auto& b) {
      return CompareInternalKeys(a.first, b.first) < 0;
    });
    for (size_t i = 0; i < slices[c].size(); ++i) order.push_back({c, i});
  }
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    const int r = CompareInternalKeys(slices[a.first][a.second].first,
                                      slices[b.first][b.second].first);
    return r < 0 || (r == 0 && a.first < b.first);
  });
  Entries expected;
  for (const auto& [c, i] : order) expected.push_back(slices[c][i]);

  std::vector<std::shared_ptr<const Block>> blocks;
  std::vector<std::unique_ptr<InternalIterator>> children;
  for (size_t c = 0; c < kChildren; ++c) {
    blocks.push_back(BuildBlock(slices[c], 1 + static_cast<int>(c)));
    children.push_back(blocks.back()->NewIterator());
  }
  auto merged = NewMergingIterator(std::move(children));
  WalkAll(merged.get(), expected, seed);
}

TEST(MergingReverse, NoChildrenAndOnlyEmptyChildren) {
  auto none = NewMergingIterator({});
  none->SeekToLast();
  EXPECT_FALSE(none->Valid());
  auto block = BuildBlock({}, 16);
  std::vector<std::unique_ptr<InternalIterator>> children;
  children.push_back(block->NewIterator());
  children.push_back(block->NewIterator());
  auto empty = NewMergingIterator(std::move(children));
  empty->SeekToLast();
  EXPECT_FALSE(empty->Valid());
  empty->SeekToFirst();
  EXPECT_FALSE(empty->Valid());
  EXPECT_TRUE(empty->status().ok());
}

}  // namespace
}  // namespace strata::lsm
