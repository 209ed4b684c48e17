// DeleteRange in the LSM engine: visibility against snapshots, WAL replay,
// flushes and compactions that drop covered data, and refused ranges. (The
// model test in tests/model/delete_range_model_test.cc covers random mixes
// for every engine kind.)
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "strata/engine.h"
#include "strata/write_batch.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::GetOrStatus;
using testing::Property;

std::string Key(int i) { return fmt::format("key{:06}", i); }

Status DeleteRange(Engine* db, std::string_view begin, std::string_view end) {
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.DeleteRange(begin, end));
  return db->Write(WriteOptions(), batch);
}

std::unique_ptr<Engine> OpenDb(const std::string& dir, const std::string& kind = "lsm") {
  Options o = testing::TinyOptions();
  o.engine = kind;
  std::unique_ptr<Engine> db;
  Status s = strata::Open(o, dir, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return db;
}

// A tombstone at s hides versions below s, not the ones written after it,
// and a snapshot older than s does not see it; checked in the memtable,
// after a flush and after a full compaction.
TEST(DeleteRangeTest, TombstoneVisibilityAgainstSnapshots) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db = OpenDb(dir.path());
  ASSERT_TRUE(db->Put(WriteOptions(), "a", "a1").ok());
  ASSERT_TRUE(db->Put(WriteOptions(), "b", "b1").ok());
  ASSERT_TRUE(db->Put(WriteOptions(), "c", "c1").ok());
  std::unique_ptr<Snapshot> before = db->GetSnapshot();
  ASSERT_TRUE(DeleteRange(db.get(), "a", "c").ok());
  std::unique_ptr<Snapshot> after = db->GetSnapshot();
  ASSERT_TRUE(db->Put(WriteOptions(), "b", "b2").ok());
  auto check = [&](const char* stage) {
    SCOPED_TRACE(stage);
    EXPECT_EQ(GetOrStatus(db.get(), "a"), "NOT_FOUND");
    EXPECT_EQ(GetOrStatus(db.get(), "b"), "b2");
    EXPECT_EQ(GetOrStatus(db.get(), "c"), "c1");
    EXPECT_EQ(GetOrStatus(db.get(), "a", before.get()), "a1");
    EXPECT_EQ(GetOrStatus(db.get(), "b", before.get()), "b1");
    EXPECT_EQ(GetOrStatus(db.get(), "a", after.get()), "NOT_FOUND");
    EXPECT_EQ(GetOrStatus(db.get(), "b", after.get()), "NOT_FOUND");
    EXPECT_EQ(GetOrStatus(db.get(), "c", after.get()), "c1");
    auto scan = [&](const Snapshot* snap, bool reverse) {
      ReadOptions ro;
      ro.snapshot = snap;
      std::unique_ptr<Iterator> it = db->NewIterator(ro);
      std::string keys;
      if (reverse) {
        for (it->SeekToLast(); it->Valid(); it->Prev()) keys += it->key();
      } else {
        for (it->SeekToFirst(); it->Valid(); it->Next()) keys += it->key();
      }
      EXPECT_TRUE(it->status().ok());
      return keys;
    };
    EXPECT_EQ(scan(nullptr, false), "bc");
    EXPECT_EQ(scan(nullptr, true), "cb");
    EXPECT_EQ(scan(before.get(), false), "abc");
    EXPECT_EQ(scan(before.get(), true), "cba");
    EXPECT_EQ(scan(after.get(), false), "c");
    EXPECT_EQ(scan(after.get(), true), "c");
  };
  check("memtable");
  ASSERT_TRUE(db->Flush().ok());
  check("flushed");
  ASSERT_TRUE(db->CompactAll().ok());
  check("compacted");
}

// A DeleteRange still in the WAL (never flushed) comes back at reopen.
TEST(DeleteRangeTest, WalReplayKeepsTheTombstone) {
  for (const std::string& kind : RegisteredEngineKinds()) {
    SCOPED_TRACE(kind);
    strata::testing::ScratchDir dir;
    {
      std::unique_ptr<Engine> db = OpenDb(dir.path(), kind);
      for (int i = 0; i < 100; ++i) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), "v").ok());
      ASSERT_TRUE(db->Flush().ok());  // the puts in a table, the tombstone in the WAL only
      WriteBatch batch;
      ASSERT_TRUE(batch.DeleteRange(Key(10), Key(90)).ok());
      ASSERT_TRUE(batch.Put(Key(50), "inside, after the tombstone").ok());
      ASSERT_TRUE(db->Write(WriteOptions{true}, batch).ok());
    }
    std::unique_ptr<Engine> db = OpenDb(dir.path(), kind);
    EXPECT_EQ(GetOrStatus(db.get(), Key(9)), "v");
    EXPECT_EQ(GetOrStatus(db.get(), Key(10)), "NOT_FOUND");
    EXPECT_EQ(GetOrStatus(db.get(), Key(49)), "NOT_FOUND");
    EXPECT_EQ(GetOrStatus(db.get(), Key(50)), "inside, after the tombstone");
    EXPECT_EQ(GetOrStatus(db.get(), Key(89)), "NOT_FOUND");
    EXPECT_EQ(GetOrStatus(db.get(), Key(90)), "v");
    int count = 0;
    std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
    EXPECT_EQ(count, 10 + 1 + 10);
  }
}

// An empty or inverted range is refused and nothing of its batch lands,
// not even the updates added before or after it.
TEST(DeleteRangeTest, InvalidRangeWritesNothing) {
  for (const std::string& kind : RegisteredEngineKinds()) {
    SCOPED_TRACE(kind);
    strata::testing::ScratchDir dir;
    {
      std::unique_ptr<Engine> db = OpenDb(dir.path(), kind);
      ASSERT_TRUE(db->Put(WriteOptions(), "keep", "1").ok());
      WriteBatch batch;
      ASSERT_TRUE(batch.Put("x", "1").ok());
      ASSERT_TRUE(batch.DeleteRange("k", "z").ok());
      EXPECT_TRUE(batch.DeleteRange("m", "m").IsInvalidArgument());
      ASSERT_TRUE(batch.Put("y", "1").ok());
      Status s = db->Write(WriteOptions{true}, batch);
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_EQ(GetOrStatus(db.get(), "x"), "NOT_FOUND");
      EXPECT_EQ(GetOrStatus(db.get(), "y"), "NOT_FOUND");
      EXPECT_EQ(GetOrStatus(db.get(), "keep"), "1");
    }
    std::unique_ptr<Engine> db = OpenDb(dir.path(), kind);  // nothing reached the WAL either
    EXPECT_EQ(GetOrStatus(db.get(), "x"), "NOT_FOUND");
    EXPECT_EQ(GetOrStatus(db.get(), "keep"), "1");
  }
}

// Compaction drops the data a tombstone covers once no snapshot needs it,
// and at the bottom the tombstone itself: entries and bytes shrink.
TEST(DeleteRangeTest, CompactionDropsCoveredData) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db = OpenDb(dir.path());
  constexpr int kKeys = 4000;
  const std::string value(100, 'v');
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), value).ok());
  ASSERT_TRUE(db->CompactAll().ok());
  auto entries = [&] { return Property(db->Stats(), "lsm.table_entries"); };
  auto bytes = [&] {
    uint64_t total = 0;
    for (int level = 0; level < 7; ++level) {
      total += Property(db->Stats(), fmt::format("lsm.level{}.bytes", level));
    }
    return total;
  };
  const uint64_t full_entries = entries(), full_bytes = bytes();
  EXPECT_EQ(full_entries, static_cast<uint64_t>(kKeys));
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  ASSERT_TRUE(DeleteRange(db.get(), Key(kKeys / 4), Key(3 * kKeys / 4)).ok());
  ASSERT_TRUE(db->CompactAll().ok());
  // The snapshot still sees the covered keys: they stay, with the tombstone.
  EXPECT_EQ(entries(), full_entries + 1);
  EXPECT_EQ(GetOrStatus(db.get(), Key(kKeys / 2), snap.get()), value);
  EXPECT_EQ(GetOrStatus(db.get(), Key(kKeys / 2)), "NOT_FOUND");
  snap.reset();
  ASSERT_TRUE(db->CompactAll().ok());
  EXPECT_EQ(entries(), static_cast<uint64_t>(kKeys / 2));  // covered data and tombstone gone
  EXPECT_LT(bytes(), full_bytes * 6 / 10);
  EXPECT_EQ(GetOrStatus(db.get(), Key(kKeys / 2)), "NOT_FOUND");
  EXPECT_EQ(GetOrStatus(db.get(), Key(kKeys / 4 - 1)), value);
  EXPECT_EQ(GetOrStatus(db.get(), Key(3 * kKeys / 4)), value);
}

// A range tombstone that outlives many flushes and compactions in upper
// levels still hides older data below it; compaction outputs are never cut
// inside a tombstone, so the files of a level stay disjoint (a reopen checks
// the manifest's levels).
TEST(DeleteRangeTest, TombstonesSurviveCompactionsAndReopen) {
  strata::testing::ScratchDir dir;
  const std::string value(200, 'v');
  {
    std::unique_ptr<Engine> db = OpenDb(dir.path());
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 2000; i += 1 + round % 3) {
        ASSERT_TRUE(db->Put(WriteOptions(), Key(i), value + std::to_string(round)).ok());
      }
      const int begin = (round * 97) % 1800;
      ASSERT_TRUE(DeleteRange(db.get(), Key(begin), Key(begin + 150)).ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }
  std::unique_ptr<Engine> db = OpenDb(dir.path());
  // Round 19 wrote keys 0, 2, 4, ... then deleted [Key(1843 % 1800 = 43), Key(193)).
  EXPECT_EQ(GetOrStatus(db.get(), Key(42)), value + "19");
  EXPECT_EQ(GetOrStatus(db.get(), Key(44)), "NOT_FOUND");
  EXPECT_EQ(GetOrStatus(db.get(), Key(192)), "NOT_FOUND");
  EXPECT_EQ(GetOrStatus(db.get(), Key(194)), value + "19");
}

}  // namespace
}  // namespace strata::lsm
