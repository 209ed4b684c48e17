// The LSM engine through the Engine interface: basic operations, flush and
// compaction, snapshots, iterators, PutIfNewer, reopen, bad input.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>

#include "io/file_system.h"
#include "lsm/db_impl.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::GetOrStatus;
using testing::Property;
using testing::TinyOptions;

std::string Key(int i) { return fmt::format("key{:06}", i); }
std::string Value(int i, int round = 0) { return fmt::format("value-{}-{}-{}", i, round,
                                                             std::string(40, 'x')); }

class DbTest : public ::testing::TestWithParam<CompactionStyle> {
 protected:
  void Open() {
    engine_.reset();
    ASSERT_TRUE(strata::Open(TinyOptions(GetParam()), dir_.path(), &engine_).ok());
  }
  strata::testing::ScratchDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(DbTest, PutGetDeleteAcrossFlushCompactReopen) {
  Open();
  EXPECT_EQ(engine_->kind(), "lsm");
  const WriteOptions wo;
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(engine_->Put(wo, Key(i), Value(i)).ok());
  for (int i = 0; i < 3000; i += 3) ASSERT_TRUE(engine_->Delete(wo, Key(i)).ok());
  auto check = [&] {
    for (int i = 0; i < 3000; ++i) {
      ASSERT_EQ(GetOrStatus(engine_.get(), Key(i)), i % 3 == 0 ? "NOT_FOUND" : Value(i)) << i;
    }
  };
  check();
  ASSERT_TRUE(engine_->Flush().ok());
  check();
  ASSERT_TRUE(engine_->CompactAll().ok());
  check();
  Open();
  check();
  const EngineStats stats = engine_->Stats();
  EXPECT_EQ(Property(stats, "lsm.immutable_memtables"), 0u);
}

TEST_P(DbTest, UnflushedWritesSurviveReopen) {
  Open();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(engine_->Put(WriteOptions{true}, Key(i), Value(i)).ok());
  Open();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(GetOrStatus(engine_.get(), Key(i)), Value(i));
  ASSERT_TRUE(engine_->Put(WriteOptions{}, Key(100), Value(100)).ok());
  Open();
  EXPECT_EQ(GetOrStatus(engine_.get(), Key(100)), Value(100));
}

TEST_P(DbTest, SnapshotsSeeTheirMoment) {
  Open();
  const WriteOptions wo;
  ASSERT_TRUE(engine_->Put(wo, "a", "1").ok());
  auto snap1 = engine_->GetSnapshot();
  ASSERT_TRUE(engine_->Put(wo, "a", "2").ok());
  ASSERT_TRUE(engine_->Put(wo, "b", "1").ok());
  auto snap2 = engine_->GetSnapshot();
  ASSERT_TRUE(engine_->Delete(wo, "a").ok());
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(GetOrStatus(engine_.get(), "a", snap1.get()), "1");
    EXPECT_EQ(GetOrStatus(engine_.get(), "b", snap1.get()), "NOT_FOUND");
    EXPECT_EQ(GetOrStatus(engine_.get(), "a", snap2.get()), "2");
    EXPECT_EQ(GetOrStatus(engine_.get(), "b", snap2.get()), "1");
    EXPECT_EQ(GetOrStatus(engine_.get(), "a"), "NOT_FOUND");
    if (round == 0) {
      ASSERT_TRUE(engine_->Flush().ok());
    }
    if (round == 1) {
      ASSERT_TRUE(engine_->CompactAll().ok());
    }
  }
  snap1.reset();
  snap2.reset();
  ASSERT_TRUE(engine_->CompactAll().ok());
  EXPECT_EQ(GetOrStatus(engine_.get(), "a"), "NOT_FOUND");
  EXPECT_EQ(GetOrStatus(engine_.get(), "b"), "1");
}

TEST_P(DbTest, IteratorSeekNextUpperBound) {
  Open();
  const WriteOptions wo;
  std::map<std::string, std::string> model;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(engine_->Put(wo, Key(i * 2), Value(i)).ok());
    model[Key(i * 2)] = Value(i);
    if (i % 500 == 0) {
      ASSERT_TRUE(engine_->Flush().ok());
    }
  }
  for (int i = 0; i < 2000; i += 7) {
    ASSERT_TRUE(engine_->Delete(wo, Key(i * 2)).ok());
    model.erase(Key(i * 2));
  }
  auto it = engine_->NewIterator(ReadOptions{});
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(m, model.end());
    ASSERT_EQ(it->key(), m->first);
    ASSERT_EQ(it->value(), m->second);
  }
  EXPECT_EQ(m, model.end());
  EXPECT_TRUE(it->status().ok());
  ReadOptions bounded;
  bounded.upper_bound = Key(101);
  auto it2 = engine_->NewIterator(bounded);
  it2->Seek(Key(51));
  std::vector<std::string> keys;
  for (; it2->Valid(); it2->Next()) keys.emplace_back(it2->key());
  std::vector<std::string> expected;
  for (auto x = model.lower_bound(Key(51)); x != model.end() && x->first < Key(101); ++x) {
    expected.push_back(x->first);
  }
  EXPECT_EQ(keys, expected);
}

TEST_P(DbTest, IteratorIsStableAcrossFlushAndCompaction) {
  Open();
  const WriteOptions wo;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(engine_->Put(wo, Key(i), Value(i)).ok());
  auto it = engine_->NewIterator(ReadOptions{});
  it->SeekToFirst();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(engine_->Put(wo, Key(i), Value(i, 1)).ok());
  ASSERT_TRUE(engine_->CompactAll().ok());
  int n = 0;
  for (; it->Valid(); it->Next(), ++n) ASSERT_EQ(it->value(), Value(n));
  EXPECT_EQ(n, 1000);
  EXPECT_EQ(GetOrStatus(engine_.get(), Key(5)), Value(5, 1));
}

TEST_P(DbTest, PutIfNewerAndGetVersioned) {
  Open();
  const WriteOptions wo;
  bool applied = false;
  ASSERT_TRUE(engine_->PutIfNewer(wo, "r", 5, "v5", &applied).ok());
  EXPECT_TRUE(applied);
  ASSERT_TRUE(engine_->PutIfNewer(wo, "r", 3, "v3", &applied).ok());
  EXPECT_FALSE(applied);
  ASSERT_TRUE(engine_->PutIfNewer(wo, "r", 5, "again", &applied).ok());
  EXPECT_FALSE(applied);
  std::string value;
  uint64_t version = 0;
  ASSERT_TRUE(engine_->GetVersioned(ReadOptions{}, "r", &value, &version).ok());
  EXPECT_EQ(value, "v5");
  EXPECT_EQ(version, 5u);
  EXPECT_EQ(GetOrStatus(engine_.get(), "r"), "v5");
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->PutIfNewer(wo, "r", 9, "v9", &applied).ok());
  EXPECT_TRUE(applied);
  ASSERT_TRUE(engine_->Put(wo, "p", "plain").ok());
  ASSERT_TRUE(engine_->GetVersioned(ReadOptions{}, "p", &value, &version).ok());
  EXPECT_EQ(version, 0u);
  ASSERT_TRUE(engine_->PutIfNewer(wo, "p", 0, "zero", &applied).ok());
  EXPECT_FALSE(applied);
  ASSERT_TRUE(engine_->PutIfNewer(wo, "p", 1, "one", &applied).ok());
  EXPECT_TRUE(applied);
  Open();
  ASSERT_TRUE(engine_->GetVersioned(ReadOptions{}, "r", &value, &version).ok());
  EXPECT_EQ(value, "v9");
  EXPECT_EQ(version, 9u);
  auto it = engine_->NewIterator(ReadOptions{});
  it->Seek("r");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "v9");
  EXPECT_TRUE(engine_->GetVersioned(ReadOptions{}, "absent", &value, &version).IsNotFound());
}

TEST_P(DbTest, BadInputIsInvalidArgumentAndLosesNothing) {
  Open();
  const WriteOptions wo;
  ASSERT_TRUE(engine_->Put(wo, "keep", "me").ok());
  EXPECT_TRUE(engine_->Put(wo, std::string(kKeyBytesMax + 1, 'k'), "v").IsInvalidArgument());
  EXPECT_TRUE(engine_->Put(wo, "k", std::string(kValueBytesMax + 1, 'v')).IsInvalidArgument());
  // Fits the batch limits but not one WAL record of this tiny configuration.
  EXPECT_TRUE(engine_->Put(wo, "k", std::string(2 << 20, 'v')).IsInvalidArgument());
  std::string value;
  EXPECT_TRUE(engine_->Get(ReadOptions{}, std::string(kKeyBytesMax + 1, 'k'), &value)
                  .IsInvalidArgument());
  ASSERT_TRUE(engine_->Put(wo, "after", "works").ok());
  EXPECT_EQ(GetOrStatus(engine_.get(), "keep"), "me");
  engine_.reset();
  // Another engine kind for this directory is refused; the data stays.
  Options other = TinyOptions(GetParam());
  other.engine = "btree";
  std::unique_ptr<Engine> wrong;
  EXPECT_TRUE(strata::Open(other, dir_.path(), &wrong).IsInvalidArgument());
  Options tiny = TinyOptions(GetParam());
  tiny.memtable_bytes = 16;
  std::unique_ptr<Engine> tiny_engine;
  EXPECT_TRUE(strata::Open(tiny, dir_.path(), &tiny_engine).IsInvalidArgument());
  Open();
  EXPECT_EQ(GetOrStatus(engine_.get(), "keep"), "me");
  EXPECT_EQ(GetOrStatus(engine_.get(), "after"), "works");
}

TEST_P(DbTest, SecondOpenOfSameDirectoryIsBusy) {
  Open();
  std::unique_ptr<Engine> second;
  EXPECT_TRUE(strata::Open(TinyOptions(GetParam()), dir_.path(), &second).IsBusy());
}

TEST_P(DbTest, CheckpointIsAConsistentCopy) {
  Open();
  const WriteOptions wo;
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(engine_->Put(wo, Key(i), Value(i)).ok());
  const std::string copy = dir_.Join("checkpoint");
  ASSERT_TRUE(engine_->Checkpoint(copy).ok());
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(engine_->Put(wo, Key(i), Value(i, 1)).ok());
  EXPECT_TRUE(engine_->Checkpoint(copy).IsInvalidArgument());
  std::unique_ptr<Engine> cp;
  ASSERT_TRUE(strata::Open(TinyOptions(GetParam()), copy, &cp).ok());
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(GetOrStatus(cp.get(), Key(i)), Value(i));
}

TEST_P(DbTest, StatsCountBytes) {
  Open();
  const WriteOptions wo;
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(engine_->Put(wo, Key(i % 500), Value(i)).ok());
  ASSERT_TRUE(engine_->CompactAll().ok());
  for (int i = 0; i < 500; ++i) ASSERT_EQ(GetOrStatus(engine_.get(), Key(i)), Value(2500 + i));
  const EngineStats st = engine_->Stats();
  EXPECT_GT(st.user_bytes_written, 3000u * 60);
  // Each unsynced write reaches the WAL before it returns; one writer's
  // records are too small to compress (lsm/wal_payload.h): the WAL holds the
  // user bytes and its framing.
  EXPECT_GE(st.wal_bytes_written, st.user_bytes_written);
  EXPECT_GT(st.flush_bytes_written, 0u);
  EXPECT_GT(st.compaction_bytes_read, 0u);
  EXPECT_GT(st.write_amplification(), 0.0);
  EXPECT_EQ(st.device_bytes_written(),
            st.wal_bytes_written + st.flush_bytes_written + st.compaction_bytes_written);
  EXPECT_EQ(Property(st, "lsm.profile.hdd"), 0u);
  EXPECT_GT(Property(st, "cache.hits") + Property(st, "cache.misses"), 0u);
  uint64_t files = 0;
  for (int level = 0; level < kLevelCount; ++level) {
    files += Property(st, fmt::format("lsm.level{}.files", level));
  }
  EXPECT_GE(files, 1u);
}

INSTANTIATE_TEST_SUITE_P(Styles, DbTest, testing::kBothStyles, testing::StyleName);

}  // namespace
}  // namespace strata::lsm
