// Versions, the manifest and compaction policy: compaction keeps exactly the
// versions live snapshots need, tombstones go only at the bottom, obsolete
// files are deleted, the picker follows each style's rules, leveled trees
// take the dynamic shape, and trivial moves keep the files they move.
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "lsm/compaction_picker.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::Property;
using testing::TinyOptions;

class VersionTest : public ::testing::TestWithParam<CompactionStyle> {};

TEST_P(VersionTest, CompactionKeepsExactlyWhatSnapshotsNeed) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(GetParam()), dir.path(), &db).ok());
  const WriteOptions wo;
  ASSERT_TRUE(db->Put(wo, "k", "1").ok());
  auto snap1 = db->GetSnapshot();
  ASSERT_TRUE(db->Put(wo, "k", "2").ok());
  ASSERT_TRUE(db->Put(wo, "k", "3").ok());
  auto snap2 = db->GetSnapshot();
  ASSERT_TRUE(db->Put(wo, "k", "4").ok());
  ASSERT_TRUE(db->Delete(wo, "k").ok());
  ASSERT_TRUE(db->Put(wo, "other", "x").ok());
  ASSERT_TRUE(db->CompactAll().ok());
  // snap1 needs "1", snap2 needs "3", the latest state needs the tombstone
  // (older versions below it are still visible to snapshots).
  EXPECT_EQ(Property(db->Stats(), "lsm.table_entries"), 4u);
  EXPECT_EQ(testing::GetOrStatus(db.get(), "k", snap1.get()), "1");
  EXPECT_EQ(testing::GetOrStatus(db.get(), "k", snap2.get()), "3");
  EXPECT_EQ(testing::GetOrStatus(db.get(), "k"), "NOT_FOUND");
  snap1.reset();
  ASSERT_TRUE(db->CompactAll().ok());
  EXPECT_EQ(Property(db->Stats(), "lsm.table_entries"), 3u);
  snap2.reset();
  ASSERT_TRUE(db->CompactAll().ok());
  // No snapshot left: the tombstone and everything under it are gone.
  EXPECT_EQ(Property(db->Stats(), "lsm.table_entries"), 1u);
  EXPECT_EQ(testing::GetOrStatus(db.get(), "other"), "x");
}

TEST_P(VersionTest, ObsoleteFilesAreDeletedAndManifestIsSingle) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(GetParam()), dir.path(), &db).ok());
  for (int i = 0; i < 4000; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:05}", i % 1000), std::string(50, 'v')).ok());
  }
  ASSERT_TRUE(db->CompactAll().ok());
  const EngineStats st = db->Stats();
  uint64_t live = 0;
  for (int level = 0; level < kLevelCount; ++level) {
    live += Property(st, fmt::format("lsm.level{}.files", level));
  }
  uint64_t ssts = 0, manifests = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = e.path().filename().string();
    ssts += name.ends_with(".sst");
    manifests += name.starts_with("MANIFEST-");
  }
  EXPECT_EQ(ssts, live);
  EXPECT_EQ(manifests, 1u);
  EXPECT_EQ(Property(st, "lsm.table_entries"), 1000u);
}

INSTANTIATE_TEST_SUITE_P(Styles, VersionTest, testing::kBothStyles, testing::StyleName);

TEST(CompactionPickerTest, LeveledTargetsGrowByTheRatio) {
  CompactionOptions o;
  o.level1_target_bytes = 1000;
  o.level_size_ratio = 10;
  CompactionPicker picker(o);
  EXPECT_EQ(picker.LevelTargetBytes(1), 1000u);
  EXPECT_EQ(picker.LevelTargetBytes(2), 10000u);
  EXPECT_EQ(picker.LevelTargetBytes(4), 1000000u);
  // With ratio 10 a full last level holds 10/(1+10+...) ~ 90% of the data.
  const double last = static_cast<double>(picker.LevelTargetBytes(4));
  double total = 0;
  for (int level = 1; level <= 4; ++level) total += static_cast<double>(picker.LevelTargetBytes(level));
  EXPECT_GT(last / total, 0.89);
}

TEST(CompactionPickerTest, EmptyVersionNeedsNothing) {
  auto v = std::make_shared<const Version>();
  for (CompactionStyle style : {CompactionStyle::kLeveled, CompactionStyle::kSizeTiered}) {
    CompactionOptions o;
    o.style = style;
    CompactionPicker picker(o);
    EXPECT_EQ(picker.Score(*v), 0.0);
    EXPECT_EQ(picker.Pick(v), nullptr);
    EXPECT_EQ(picker.PickAll(v), nullptr);
  }
}

// Size-tiered keeps every run in L0; both styles end with all entries
// after a full compaction.
TEST(CompactionPickerTest, StylesShapeTheTree) {
  for (CompactionStyle style : {CompactionStyle::kLeveled, CompactionStyle::kSizeTiered}) {
    SCOPED_TRACE(static_cast<int>(style));
    strata::testing::ScratchDir dir;
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(style), dir.path(), &db).ok());
    for (int round = 0; round < 12; ++round) {
      for (int i = 0; i < 300; ++i) {
        ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:05}-{}", i, round),
                            std::string(100, 'v')).ok());
      }
      ASSERT_TRUE(db->Flush().ok());
    }
    const EngineStats st = db->Stats();
    uint64_t deeper = 0;
    for (int level = 1; level < kLevelCount; ++level) {
      deeper += Property(st, fmt::format("lsm.level{}.files", level));
    }
    if (style == CompactionStyle::kSizeTiered) {
      EXPECT_EQ(deeper, 0u);  // every run lives in L0
    }
    EXPECT_EQ(Property(st, "lsm.compaction_style"), static_cast<uint64_t>(style));
    ASSERT_TRUE(db->CompactAll().ok());
    const EngineStats after = db->Stats();
    EXPECT_EQ(Property(after, "lsm.table_entries"), 12u * 300);
  }
}

// A made-up file of `bytes` covering user keys [first, last].
std::shared_ptr<FileMetaData> FakeFile(uint64_t number, std::string_view first,
                                       std::string_view last, uint64_t bytes) {
  auto f = std::make_shared<FileMetaData>();
  f->number = number;
  f->file_bytes = bytes;
  AppendInternalKey(&f->smallest, first, number * 2 + 1, ValueType::kValue);
  AppendInternalKey(&f->largest, last, number * 2, ValueType::kValue);
  f->smallest_seq = number * 2;
  f->largest_seq = number * 2 + 1;
  return f;
}

constexpr uint64_t kMB = 1000 * 1000;

TEST(CompactionPickerTest, DynamicTargetsFollowTheLargestLevel) {
  CompactionOptions o;
  o.level1_target_bytes = 10 * kMB;
  o.level_size_ratio = 10;
  CompactionPicker picker(o);
  // Empty tree: L0 goes straight to the last level.
  EXPECT_EQ(picker.Targets(*Version::FromLevels({})).base_level, kLevelCount - 1);
  // 8 MB at the bottom fits the base maximum: the bottom level is the base.
  auto small = Version::FromLevels({{}, {}, {}, {}, {}, {}, {FakeFile(1, "a", "z", 8 * kMB)}});
  EXPECT_EQ(picker.Targets(*small).base_level, 6);
  // 50 MB does not: L5 opens above it with a 5 MB share (target 10 MB).
  auto medium = Version::FromLevels({{}, {}, {}, {}, {}, {}, {FakeFile(1, "a", "z", 50 * kMB)}});
  EXPECT_EQ(picker.Targets(*medium).base_level, 5);
  EXPECT_EQ(picker.Targets(*medium).bytes[5], 10 * kMB);
  // 5 GB at the bottom: L5 would be 500 MB, L4 50 MB, L3 5 MB <= 10 MB: base L3.
  auto big = Version::FromLevels({{}, {}, {}, {}, {}, {}, {FakeFile(1, "a", "z", 5000 * kMB)}});
  const LevelTargets t = picker.Targets(*big);
  EXPECT_EQ(t.base_level, 3);
  EXPECT_EQ(t.bytes[3], 10 * kMB);  // never below the base maximum
  EXPECT_EQ(t.bytes[4], 50 * kMB);
  EXPECT_EQ(t.bytes[5], 500 * kMB);
  EXPECT_EQ(t.bytes[6], 0u);  // the last level is never compacted further
  for (int level = 1; level < 3; ++level) EXPECT_EQ(t.bytes[level], 0u);
  // A tree written with fixed targets (data in L1 and L2) keeps its first
  // non-empty level as the base: nothing above data is ever opened.
  auto fixed = Version::FromLevels(
      {{}, {FakeFile(1, "a", "m", 8 * kMB)}, {FakeFile(2, "a", "z", 60 * kMB)}});
  EXPECT_EQ(picker.Targets(*fixed).base_level, 1);
  // The same with fixed targets: L1 is the base whatever the data.
  o.dynamic_level_bytes = false;
  CompactionPicker fixed_picker(o);
  EXPECT_EQ(fixed_picker.Targets(*big).base_level, 1);
  EXPECT_EQ(fixed_picker.Targets(*big).bytes[2], 100 * kMB);
}

TEST(CompactionPickerTest, L0GoesToTheBaseAndDisjointFilesMove) {
  CompactionOptions o;
  o.level1_target_bytes = 10 * kMB;
  o.l0_compaction_trigger = 2;
  CompactionPicker picker(o);
  // Two disjoint L0 files over an empty tree: moved to the last level as they are.
  auto disjoint = Version::FromLevels({{FakeFile(1, "a", "c", kMB), FakeFile(2, "d", "f", kMB)}});
  auto c = picker.Pick(disjoint);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->output_level, kLevelCount - 1);
  EXPECT_TRUE(c->trivial_move);
  // Overlapping L0 files are merged into the first non-empty level.
  auto overlapping = Version::FromLevels({{FakeFile(3, "a", "e", kMB), FakeFile(4, "d", "f", kMB)},
                                          {}, {}, {}, {}, {FakeFile(1, "a", "b", kMB)},
                                          {FakeFile(2, "a", "z", 20 * kMB)}});
  c = picker.Pick(overlapping);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->output_level, 5);
  EXPECT_FALSE(c->trivial_move);
  EXPECT_EQ(c->inputs[1].size(), 1u);
  EXPECT_FALSE(c->bottommost);  // L6 holds older versions of the keys
}

TEST(CompactionPickerTest, LevelCompactionPicksTheSmallestOverlap) {
  CompactionOptions o;
  o.level1_target_bytes = 10 * kMB;
  CompactionPicker picker(o);
  // L5 is over its 10 MB target; of its files, "m".."n" overlaps 1 MB of L6
  // per 6 MB, the others a 40 MB file each.
  auto v = Version::FromLevels({{}, {}, {}, {}, {},
                                {FakeFile(1, "a", "b", 6 * kMB), FakeFile(2, "m", "n", 6 * kMB),
                                 FakeFile(3, "x", "y", 6 * kMB)},
                                {FakeFile(4, "a", "c", 40 * kMB), FakeFile(5, "m", "n", kMB),
                                 FakeFile(6, "o", "z", 40 * kMB)}});
  auto c = picker.Pick(v);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->level, 5);
  ASSERT_EQ(c->inputs[0].size(), 1u);
  EXPECT_EQ(c->inputs[0][0]->number, 2u);
  ASSERT_EQ(c->inputs[1].size(), 1u);
  EXPECT_EQ(c->inputs[1][0]->number, 5u);
  EXPECT_TRUE(c->bottommost);
}

std::vector<uint64_t> LevelBytes(const EngineStats& st) {
  std::vector<uint64_t> bytes;
  for (int level = 0; level < kLevelCount; ++level) {
    bytes.push_back(Property(st, fmt::format("lsm.level{}.bytes", level)));
  }
  return bytes;
}

void ExpectMatches(Engine* db, const std::map<std::string, std::string>& model) {
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  auto expected = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    ASSERT_NE(expected, model.end()) << "extra key " << it->key();
    ASSERT_EQ(it->key(), expected->first);
    ASSERT_EQ(it->value(), expected->second);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  EXPECT_EQ(expected, model.end());
}

// Random updates with 64 KiB memtables (base maximum 256 KiB): the tree
// grows downwards from the last level, each level above the largest holds
// about 1/10 of it, and the shape and contents survive a reopen.
TEST(DynamicLevelsTest, LevelSizesFollowTheRatio) {
  const uint64_t seed = strata::testing::TestSeed(7);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  strata::testing::ScratchDir dir;
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(seed);
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
    for (int i = 0; i < 30000; ++i) {
      const std::string key = fmt::format("k{:08}", rng() % 20000);
      // Half random, so that zstd keeps the tables near their raw size.
      std::string value(100, 'v');
      for (int j = 0; j < 50; ++j) value[j] = static_cast<char>(rng());
      ASSERT_TRUE(db->Put(WriteOptions{}, key, value).ok());
      model[key] = value;
    }
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(static_cast<DBImpl*>(db.get())->WaitForCompactions().ok());
    const std::vector<uint64_t> bytes = LevelBytes(db->Stats());
    SCOPED_TRACE(fmt::format("level bytes {}", fmt::join(bytes, " ")));
    const uint64_t last = bytes[kLevelCount - 1];
    int first = kLevelCount - 1;
    while (first > 1 && bytes[first - 1] != 0) --first;
    uint64_t deeper_total = 0;
    for (int level = 1; level < kLevelCount; ++level) deeper_total += bytes[level];
    // Data only from the first non-empty level down, no gap, and L1 unused:
    // ~2 MB of tables need two levels, not six.
    for (int level = 1; level < first; ++level) EXPECT_EQ(bytes[level], 0u) << "L" << level;
    EXPECT_GE(first, 4);
    // Each level above the last is about 1/10 of the one below it (at most
    // its target, the base maximum at the least).
    for (int level = first; level < kLevelCount - 1; ++level) {
      EXPECT_LE(bytes[level], std::max<uint64_t>(256 * 1024, bytes[level + 1] / 5))
          << "L" << level;
    }
    EXPECT_GT(static_cast<double>(last) / static_cast<double>(deeper_total), 0.75);
    EXPECT_LT(Property(db->Stats(), "lsm.level0.files"), 4u);
    ExpectMatches(db.get(), model);
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  ExpectMatches(db.get(), model);
}

// Sequential keys flush into disjoint L0 files: they reach the last level
// by manifest edits alone (nothing rewritten), stay readable, and reopen.
TEST(DynamicLevelsTest, SequentialLoadMovesFilesWithoutRewriting) {
  strata::testing::ScratchDir dir;
  std::map<std::string, std::string> model;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
    for (int i = 0; i < 6000; ++i) {
      const std::string key = fmt::format("k{:08}", i);
      const std::string value = fmt::format("{:0>100}", i);
      ASSERT_TRUE(db->Put(WriteOptions{}, key, value).ok());
      model[key] = value;
    }
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(static_cast<DBImpl*>(db.get())->WaitForCompactions().ok());
    const EngineStats st = db->Stats();
    EXPECT_GT(Property(st, "lsm.trivial_moves"), 0u);
    EXPECT_EQ(Property(st, "lsm.compactions"), 0u);
    EXPECT_EQ(st.compaction_bytes_written, 0u);
    EXPECT_GT(Property(st, fmt::format("lsm.level{}.files", kLevelCount - 1)), 0u);
    // Every table is a flush output, moved as it was.
    uint64_t files = 0;
    for (int level = 0; level < kLevelCount; ++level) {
      files += Property(st, fmt::format("lsm.level{}.files", level));
    }
    EXPECT_EQ(Property(st, "lsm.flushes"), files);
    ExpectMatches(db.get(), model);
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  ExpectMatches(db.get(), model);
}

// A bottommost compaction writes entries every reader sees with sequence 0;
// newer writes still win and an older snapshot still reads its version.
TEST(DynamicLevelsTest, BottommostEntriesKeepTheirOrderWithSequenceZero) {
  strata::testing::ScratchDir dir;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
    ASSERT_TRUE(db->Put(WriteOptions{}, "k", "1").ok());
    ASSERT_TRUE(db->Put(WriteOptions{}, "j", "1").ok());
    ASSERT_TRUE(db->CompactAll().ok());
    auto snap = db->GetSnapshot();
    ASSERT_TRUE(db->Put(WriteOptions{}, "k", "2").ok());
    ASSERT_TRUE(db->CompactAll().ok());
    EXPECT_EQ(testing::GetOrStatus(db.get(), "k"), "2");
    EXPECT_EQ(testing::GetOrStatus(db.get(), "k", snap.get()), "1");
    EXPECT_EQ(testing::GetOrStatus(db.get(), "j", snap.get()), "1");
    snap.reset();
    ASSERT_TRUE(db->Put(WriteOptions{}, "j", "2").ok());
    ASSERT_TRUE(db->Flush().ok());
    EXPECT_EQ(testing::GetOrStatus(db.get(), "j"), "2");
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  EXPECT_EQ(testing::GetOrStatus(db.get(), "k"), "2");
  EXPECT_EQ(testing::GetOrStatus(db.get(), "j"), "2");
  ASSERT_TRUE(db->CompactAll().ok());
  EXPECT_EQ(testing::GetOrStatus(db.get(), "j"), "2");
  EXPECT_EQ(Property(db->Stats(), "lsm.table_entries"), 2u);
}

}  // namespace
}  // namespace strata::lsm
