// Versions, the manifest and compaction policy: compaction keeps exactly the
// versions live snapshots need, tombstones go only at the bottom, obsolete
// files are deleted, and the picker follows each style's rules.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>

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

INSTANTIATE_TEST_SUITE_P(Styles, VersionTest,
                         ::testing::Values(CompactionStyle::kLeveled,
                                           CompactionStyle::kSizeTiered),
                         [](const auto& info) {
                           return info.param == CompactionStyle::kLeveled ? "Leveled"
                                                                          : "SizeTiered";
                         });

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

}  // namespace
}  // namespace strata::lsm
