// The knobs RocksDB users reach for first (docs/PROFILES.md): the L0
// slowdown and stop triggers, and the target file size of compaction outputs.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <random>

#include "lsm/db_impl.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

TEST(LsmKnobsTest, L0TriggersOutOfOrderAreInvalid) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  Options o = testing::TinyOptions();
  o.l0_slowdown_writes_trigger = 0;
  EXPECT_TRUE(Open(o, dir.Join("a"), &db).IsInvalidArgument());
  o.l0_slowdown_writes_trigger = 8;
  o.l0_stop_writes_trigger = 7;
  const Status s = Open(o, dir.Join("b"), &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("l0_stop_writes_trigger 7"), std::string::npos) << s.ToString();
}

// A slowdown trigger of 1 with a compaction trigger of 2: after the first
// flush, L0 holds one file that no compaction takes, so every later write
// is slowed (a counted stall), and the stop trigger of 2 makes writers wait
// for each compaction. Everything written is read back.
TEST(LsmKnobsTest, TinyL0TriggersSlowAndStopWrites) {
  strata::testing::ScratchDir dir;
  Options o = testing::TinyOptions();
  o.l0_compaction_trigger = 2;
  o.l0_slowdown_writes_trigger = 1;
  o.l0_stop_writes_trigger = 2;
  o.compression = Compression::kNone;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, dir.Join("db"), &db).ok());
  const std::string value(4096, 'v');
  for (int i = 0; i < 80; ++i) ASSERT_TRUE(db->Put({}, fmt::format("k{:04}", i), value).ok());
  ASSERT_TRUE(static_cast<DBImpl*>(db.get())->WaitForCompactions().ok());
  const EngineStats st = db->Stats();
  EXPECT_GT(testing::Property(st, "lsm.flushes"), 3u);
  EXPECT_GT(testing::Property(st, "lsm.write_stalls"), 10u);
  EXPECT_GT(st.stall_micros, 0u);
  EXPECT_LT(testing::Property(st, "lsm.level0.files"), 2u);
  for (int i = 0; i < 80; ++i) EXPECT_EQ(testing::GetOrStatus(db.get(), fmt::format("k{:04}", i)), value);
  ASSERT_TRUE(db->Close().ok());
}

// Compaction outputs are cut at target_file_bytes (at a key boundary: a
// file ends with the first key that reaches it).
TEST(LsmKnobsTest, TargetFileBytesCutsCompactionOutputs) {
  auto files_below_l0 = [](uint64_t target, std::vector<uint64_t>* sizes) {
    strata::testing::ScratchDir dir;
    Options o = testing::TinyOptions();
    o.compression = Compression::kNone;
    o.target_file_bytes = target;
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Open(o, dir.Join("db"), &db).ok());
    std::mt19937_64 rng(13);
    std::string value(100, '\0');
    for (int i = 0; i < 3000; ++i) {
      for (char& c : value) c = static_cast<char>(rng());
      ASSERT_TRUE(db->Put({}, fmt::format("key{:06}", i * 7919 % 3000), value).ok());
    }
    ASSERT_TRUE(db->CompactAll().ok());
    auto* impl = static_cast<DBImpl*>(db.get());
    ASSERT_TRUE(impl->WaitForCompactions().ok());
    const auto version = impl->versions_for_testing().current();
    for (int level = 1; level < kLevelCount; ++level) {
      for (const auto& f : version->files(level)) sizes->push_back(f->file_bytes);
    }
    ASSERT_TRUE(db->Close().ok());
  };
  constexpr uint64_t kTarget = 16 * 1024;
  std::vector<uint64_t> small, fallback;
  files_below_l0(kTarget, &small);
  files_below_l0(0, &fallback);  // 0: memtable_bytes (64 KiB here)
  ASSERT_GE(small.size(), 10u);
  EXPECT_GE(small.size(), 3 * fallback.size());
  uint64_t under_target = 0;
  for (const uint64_t bytes : small) {
    EXPECT_LE(bytes, 2 * kTarget);
    if (bytes < kTarget) ++under_target;
  }
  EXPECT_LE(under_target, 1u);  // only the last file of the run
}

}  // namespace
}  // namespace strata::lsm
