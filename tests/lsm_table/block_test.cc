// Block builder and block iterator: round trips, seeks across restarts and
// malformed blocks (which must give Corruption, never a crash).
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/coding.h"
#include "lsm/block.h"
#include "lsm/block_builder.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::IKey;
using testing::Model;

std::shared_ptr<const Block> BuildBlock(const Model& model, int restart_interval) {
  BlockBuilder builder(restart_interval);
  for (const auto& [k, v] : model) builder.Add(k, v);
  EXPECT_EQ(builder.entry_count(), model.size());
  const size_t estimate = builder.EstimatedBytes();
  std::string contents(builder.Finish());
  EXPECT_EQ(contents.size(), estimate);
  std::shared_ptr<const Block> block;
  Status s = Block::Parse(contents, "000007.sst", 4096, &block);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return block;
}

class BlockRoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(BlockRoundTrip, IterateAndSeekMatchModel) {
  const uint64_t seed = strata::testing::TestSeed(21);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const Model model = testing::RandomEntries(seed, 300, 20);
  auto block = BuildBlock(model, GetParam());
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(block->restart_count(), (model.size() + GetParam() - 1) / GetParam());

  auto it = block->NewIterator();
  auto e = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++e) {
    ASSERT_NE(e, model.end());
    ASSERT_EQ(it->key(), e->first);
    ASSERT_EQ(it->value(), e->second);
  }
  ASSERT_EQ(e, model.end());
  ASSERT_TRUE(it->status().ok());

  // Every existing key, and keys just before and after each of them.
  for (const auto& [k, v] : model) {
    it->Seek(k);
    ASSERT_TRUE(it->Valid());
    ASSERT_EQ(it->key(), k);
    ParsedInternalKey p;
    ASSERT_TRUE(ParseInternalKey(k, &p));
    for (SequenceNumber seq : {p.sequence + 1, p.sequence > 0 ? p.sequence - 1 : 0}) {
      const std::string target = IKey(p.user_key, seq, ValueType::kVersionedValue);
      it->Seek(target);
      auto expected = model.lower_bound(target);
      if (expected == model.end()) {
        ASSERT_FALSE(it->Valid());
      } else {
        ASSERT_TRUE(it->Valid());
        ASSERT_EQ(it->key(), expected->first);
      }
    }
  }
  it->Seek(IKey("", kMaxSequenceNumber));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), model.begin()->first);
  it->Seek(IKey("zzzzzzzzzzzzzzzzzzzzzzzzzzzz", 0));
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

INSTANTIATE_TEST_SUITE_P(RestartInterval, BlockRoundTrip, ::testing::Values(1, 2, 16, 1000));

TEST(Block, PrefixCompressionShrinksSharedKeys) {
  Model model;
  for (int i = 0; i < 64; ++i) model[IKey(fmt::format("a-long-common-prefix-{:04}", i), 1)] = "";
  BlockBuilder compressed(16);
  BlockBuilder plain(1);
  for (const auto& [k, v] : model) {
    compressed.Add(k, v);
    plain.Add(k, v);
  }
  EXPECT_LT(compressed.Finish().size() * 2, plain.Finish().size());
}

TEST(Block, EmptyBlock) {
  BlockBuilder builder(16);
  std::shared_ptr<const Block> block;
  ASSERT_TRUE(Block::Parse(std::string(builder.Finish()), "x.sst", 0, &block).ok());
  auto it = block->NewIterator();
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->Seek(IKey("a", 1));
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TEST(Block, BadRestartArrayIsCorruption) {
  std::shared_ptr<const Block> block;
  Status s = Block::Parse("ab", "000009.sst", 123, &block);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("000009.sst @ 123"), std::string::npos) << s.ToString();
  std::string huge_count;
  PutFixed32(&huge_count, 1000);
  EXPECT_TRUE(Block::Parse(huge_count, "f", 0, &block).IsCorruption());
  std::string zero_count;
  PutFixed32(&zero_count, 0);
  EXPECT_TRUE(Block::Parse(zero_count, "f", 0, &block).IsCorruption());
  // Restart pointing past the entries.
  std::string bad_restart = "xxxx";
  PutFixed32(&bad_restart, 0);
  PutFixed32(&bad_restart, 99);
  PutFixed32(&bad_restart, 2);
  EXPECT_TRUE(Block::Parse(bad_restart, "f", 0, &block).IsCorruption());
}

// Blocks are checksummed before parsing, but the parser must still never
// read out of bounds: mutate valid blocks at random and walk them.
TEST(Block, GarbageNeverCrashes) {
  const uint64_t seed = strata::testing::TestSeed(22);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  const Model model = testing::RandomEntries(seed, 40, 10);
  BlockBuilder builder(4);
  for (const auto& [k, v] : model) builder.Add(k, v);
  const std::string good(builder.Finish());
  int corruptions = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    if (rng() % 4 == 0) bad.resize(rng() % bad.size());
    std::shared_ptr<const Block> block;
    if (!Block::Parse(bad, "f", 0, &block).ok()) {
      ++corruptions;
      continue;
    }
    auto it = block->NewIterator();
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid() && n < 10 * model.size(); it->Next()) ++n;
    it->Seek(model.begin()->first);
    it->Seek(IKey("ccc", 5));
    if (!it->status().ok()) {
      EXPECT_TRUE(it->status().IsCorruption());
      ++corruptions;
    }
  }
  EXPECT_GT(corruptions, 0);
}

}  // namespace
}  // namespace strata::lsm
