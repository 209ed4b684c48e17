// The btree engine through strata::Open: limits, page sizes, overflow,
// bulk load, checkpoint copies, the bounded WAL, eviction and the
// reuse rule for pages a snapshot still reaches.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <random>

#include "tests/btree/btree_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::btree {
namespace {

std::unique_ptr<Engine> OpenOrDie(const Options& o, const std::string& dir) {
  std::unique_ptr<Engine> db;
  const Status s = strata::Open(o, dir, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return db;
}

uint64_t Property(Engine* db, std::string_view name) {
  for (const auto& [n, v] : db->Stats().properties) {
    if (n == name) return v;
  }
  ADD_FAILURE() << "no property " << name;
  return 0;
}

TEST(BtreeDbTest, OpensAsKindBtreeAndReopens) {
  strata::testing::ScratchDir dir;
  {
    auto db = OpenOrDie(testing::TinyOptions(), dir.path());
    EXPECT_EQ(db->kind(), "btree");
    ASSERT_TRUE(db->Put(WriteOptions{true}, "a", "1").ok());
  }
  // The directory's kind wins over a default Options (engine "lsm" asked: error).
  Options lsm;
  std::unique_ptr<Engine> db;
  EXPECT_TRUE(strata::Open(lsm, dir.path(), &db).IsInvalidArgument());
  Options any;
  any.engine = "";
  db = OpenOrDie(any, dir.path());
  ASSERT_NE(db, nullptr);
  std::string v;
  ASSERT_TRUE(db->Get(ReadOptions{}, "a", &v).ok());
  EXPECT_EQ(v, "1");
}

TEST(BtreeDbTest, OtherConfiguredPageSizeIsInvalidArgument) {
  strata::testing::ScratchDir dir;
  { auto db = OpenOrDie(testing::TinyOptions(1024), dir.path()); }
  std::unique_ptr<Engine> db;
  const Status s = strata::Open(testing::TinyOptions(2048), dir.path(), &db);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("1024"), std::string::npos);
  // block_bytes 0 (from the profile) adopts the file's size.
  Options o = testing::TinyOptions();
  o.block_bytes = 0;
  db = OpenOrDie(o, dir.path());
  EXPECT_EQ(Property(db.get(), "btree.page_bytes"), 1024u);
  db.reset();
  o.block_bytes = 3000;
  EXPECT_TRUE(strata::Open(o, dir.path(), &db).IsInvalidArgument());
}

TEST(BtreeDbTest, KeysAndValuesAtTheLimits) {
  for (size_t page : {512u, 4096u}) {
    SCOPED_TRACE(page);
    strata::testing::ScratchDir dir;
    Options o = testing::TinyOptions(page);
    o.wal_segment_bytes = 64 * kMiB;  // a maximal value must fit one WAL record
    auto db = OpenOrDie(o, dir.path());
    const PageGeometry geo = PageGeometry::For(page);
    const std::string max_key(geo.key_max, 'k');
    // The largest key, with the smallest and the largest value.
    ASSERT_TRUE(db->Put(WriteOptions{}, max_key, "").ok());
    const std::string big(kValueBytesMax, 'v');
    ASSERT_TRUE(db->Put(WriteOptions{}, max_key + "", big).ok());
    // Values around the inline/overflow boundary and around page multiples.
    std::map<std::string, std::string> expect;
    expect[max_key] = big;
    int i = 0;
    for (size_t len : {geo.inline_value_max - 2, geo.inline_value_max - 1, geo.inline_value_max,
                       geo.inline_value_max + 1, geo.overflow_data - 1, geo.overflow_data,
                       geo.overflow_data + 1, 2 * geo.overflow_data, 2 * geo.overflow_data + 1,
                       size_t{0}}) {
      const std::string k = fmt::format("b{:03}", i++);
      const std::string v(len, static_cast<char>('a' + i));
      ASSERT_TRUE(db->Put(WriteOptions{}, k, v).ok()) << len;
      expect[k] = v;
    }
    // Over the limits: InvalidArgument and nothing written.
    const EngineStats before = db->Stats();
    EXPECT_TRUE(db->Put(WriteOptions{}, std::string(geo.key_max + 1, 'k'), "x").IsInvalidArgument());
    EXPECT_TRUE(db->Put(WriteOptions{}, "x", std::string(kValueBytesMax + 1, 'v')).IsInvalidArgument());
    WriteBatch batch;
    ASSERT_TRUE(batch.Put("fine", "1").ok());
    ASSERT_TRUE(batch.Put(std::string(geo.key_max + 1, 'z'), "1").ok());
    EXPECT_TRUE(db->Write(WriteOptions{}, batch).IsInvalidArgument());
    EXPECT_EQ(db->Stats().wal_bytes_written, before.wal_bytes_written);
    std::string v;
    EXPECT_TRUE(db->Get(ReadOptions{}, "fine", &v).IsNotFound());
    EXPECT_EQ(testing::Dump(db.get()), expect);
    db.reset();
    db = OpenOrDie(o, dir.path());
    EXPECT_EQ(testing::Dump(db.get()), expect);
    ASSERT_TRUE(db->Flush().ok());
    CheckReport report;
    const Status c = testing::CheckDir(dir.path(), &report);
    ASSERT_TRUE(c.ok()) << c.ToString();
    EXPECT_GT(report.pages_by_type[static_cast<size_t>(PageType::kOverflow)], 0u);
  }
}

TEST(BtreeDbTest, PutIfNewerAndGetVersioned) {
  strata::testing::ScratchDir dir;
  auto db = OpenOrDie(testing::TinyOptions(), dir.path());
  const WriteOptions wo;
  bool applied = false;
  ASSERT_TRUE(db->PutIfNewer(wo, "r", 5, "v5", &applied).ok());
  EXPECT_TRUE(applied);
  ASSERT_TRUE(db->PutIfNewer(wo, "r", 3, "v3", &applied).ok());
  EXPECT_FALSE(applied);
  ASSERT_TRUE(db->PutIfNewer(wo, "r", 5, "again", &applied).ok());
  EXPECT_FALSE(applied);
  std::string value;
  uint64_t version = 0;
  ASSERT_TRUE(db->GetVersioned(ReadOptions{}, "r", &value, &version).ok());
  EXPECT_EQ(value, "v5");
  EXPECT_EQ(version, 5u);
  ASSERT_TRUE(db->Put(wo, "p", "plain").ok());
  ASSERT_TRUE(db->GetVersioned(ReadOptions{}, "p", &value, &version).ok());
  EXPECT_EQ(version, 0u);
  ASSERT_TRUE(db->PutIfNewer(wo, "p", 0, "zero", &applied).ok());
  EXPECT_FALSE(applied);
  ASSERT_TRUE(db->PutIfNewer(wo, "p", 1, "one", &applied).ok());
  EXPECT_TRUE(applied);
  ASSERT_TRUE(db->Delete(wo, "r").ok());
  ASSERT_TRUE(db->PutIfNewer(wo, "r", 0, "back", &applied).ok());
  EXPECT_TRUE(applied);
  db.reset();
  db = OpenOrDie(testing::TinyOptions(), dir.path());
  ASSERT_TRUE(db->GetVersioned(ReadOptions{}, "p", &value, &version).ok());
  EXPECT_EQ(value, "one");
  EXPECT_EQ(version, 1u);
  EXPECT_TRUE(db->GetVersioned(ReadOptions{}, "absent", &value, &version).IsNotFound());
}

// The WAL is released at checkpoints: under a steady write load it keeps
// only a few segments.
TEST(BtreeDbTest, WalStaysBoundedUnderSteadyWrites) {
  strata::testing::ScratchDir dir;
  auto db = OpenOrDie(testing::TinyOptions(), dir.path());
  std::mt19937_64 rng(3);
  for (int i = 0; i < 6000; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:06}", rng() % 3000),
                        std::string(rng() % 200, 'v'))
                    .ok());
  }
  EXPECT_GT(Property(db.get(), "btree.checkpoints"), 10u);
  std::vector<std::string> names;
  ASSERT_TRUE(io::DefaultFileSystem()->ListDir(dir.Join("wal"), &names).ok());
  EXPECT_LE(names.size(), 6u);
  const EngineStats st = db->Stats();
  EXPECT_GT(st.flush_bytes_written, 0u);
  EXPECT_GT(st.write_amplification(), 1.0);
}

// A tiny cache: pages are evicted and read back (verified) all the time.
TEST(BtreeDbTest, CacheBudgetEvictsAndRereads) {
  strata::testing::ScratchDir dir;
  Options o = testing::TinyOptions(512);
  o.block_cache_bytes = 4 * 1024;
  auto db = OpenOrDie(o, dir.path());
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:06}", i), std::string(40, 'v')).ok());
  }
  ASSERT_TRUE(db->Flush().ok());
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 3000; i += 7) {
      std::string v;
      ASSERT_TRUE(db->Get(ReadOptions{}, fmt::format("k{:06}", i), &v).ok());
    }
  }
  EXPECT_GT(Property(db.get(), "cache.evictions"), 100u);
  EXPECT_GT(Property(db.get(), "cache.misses"), 100u);
  EXPECT_LE(Property(db.get(), "cache.usage_bytes"), 4u * 1024 + 512);
}

// A snapshot pins its pages: no later write (nor checkpoint) may reuse them.
TEST(BtreeDbTest, SnapshotSurvivesChurnAndCheckpoints) {
  strata::testing::ScratchDir dir;
  auto db = OpenOrDie(testing::TinyOptions(512), dir.path());
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:05}", i), fmt::format("old{}", i)).ok());
  }
  auto snap = db->GetSnapshot();
  const auto frozen = testing::Dump(db.get(), snap.get());
  auto it = db->NewIterator(ReadOptions{});
  it->Seek("k00100");
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:05}", i), fmt::format("new{}{}", round, i)).ok());
      if (i % 3 == 0) {
        ASSERT_TRUE(db->Delete(WriteOptions{}, fmt::format("k{:05}", i)).ok());
      }
    }
    ASSERT_TRUE(db->Flush().ok());
  }
  EXPECT_EQ(testing::Dump(db.get(), snap.get()), frozen);
  // The old iterator still walks the state it was created on.
  for (int i = 100; i < 500; ++i, it->Next()) {
    ASSERT_TRUE(it->Valid());
    ASSERT_EQ(it->key(), fmt::format("k{:05}", i));
    ASSERT_EQ(it->value(), fmt::format("old{}", i));
  }
  EXPECT_FALSE(it->Valid());
  it.reset();
  snap.reset();
  // Released: the next writes and checkpoint reclaim the pages.
  ASSERT_TRUE(db->Put(WriteOptions{}, "z", "1").ok());
  ASSERT_TRUE(db->Flush().ok());
  ASSERT_TRUE(db->Put(WriteOptions{}, "z", "2").ok());
  ASSERT_TRUE(db->Flush().ok());
  EXPECT_EQ(Property(db.get(), "btree.pending_free_pages"), 0u);
  EXPECT_TRUE(testing::CheckDir(dir.path()).ok());
}

TEST(BtreeDbTest, CheckpointCopyOpensAsABtreeDatabase) {
  strata::testing::ScratchDir dir;
  strata::testing::ScratchDir out;
  const std::string copy = out.Join("copy");
  auto db = OpenOrDie(testing::TinyOptions(512), dir.path());
  for (int i = 0; i < 800; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:05}", i), std::string(i % 300, 'c')).ok());
  }
  const auto expect = testing::Dump(db.get());
  ASSERT_TRUE(db->Checkpoint(copy).ok());
  EXPECT_TRUE(db->Checkpoint(copy).IsInvalidArgument());
  ASSERT_TRUE(db->Put(WriteOptions{}, "after", "x").ok());
  Options o = testing::TinyOptions(512);
  o.engine = "";
  auto cp = OpenOrDie(o, copy);
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->kind(), "btree");
  EXPECT_EQ(testing::Dump(cp.get()), expect);
  // The copy takes writes and survives a reopen.
  ASSERT_TRUE(cp->Put(WriteOptions{true}, "new", "y").ok());
  cp.reset();
  cp = OpenOrDie(o, copy);
  std::string v;
  ASSERT_TRUE(cp->Get(ReadOptions{}, "new", &v).ok());
  EXPECT_TRUE(cp->Get(ReadOptions{}, "after", &v).IsNotFound());
}

// A checkpoint copy continues the WAL numbering after the state it holds,
// across reopens of the copy, and is compact: a rebuilt tree, not the
// source's pages.
TEST(BtreeDbTest, CheckpointCopyContinuesAfterItsSequenceAcrossReopens) {
  strata::testing::ScratchDir dir;
  const std::string copy = dir.Join("copy");
  auto db = OpenOrDie(testing::TinyOptions(512), dir.Join("db"));
  std::mt19937_64 rng(17);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:05}", rng() % 1500),
                        std::string(rng() % 100, 'c'))
                    .ok());
  }
  for (int i = 0; i < 1500; i += 2) {
    ASSERT_TRUE(db->Delete(WriteOptions{}, fmt::format("k{:05}", i)).ok());
  }
  CheckpointOptions co;
  co.dir = copy;
  CheckpointInfo info;
  ASSERT_TRUE(db->CreateCheckpoint(co, &info).ok());
  EXPECT_EQ(info.sequence, db->GetSnapshot()->sequence());
  EXPECT_EQ(info.files_linked, 0u);
  EXPECT_LT(info.bytes_written, Property(db.get(), "btree.pages") * 512);
  Options o = testing::TinyOptions(512);
  o.engine = "";
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    auto cp = OpenOrDie(o, copy);
    ASSERT_NE(cp, nullptr);
    EXPECT_GE(cp->GetSnapshot()->sequence(), info.sequence);
    ASSERT_TRUE(cp->Put(WriteOptions{round == 1}, fmt::format("new{}", round), "y").ok());
    EXPECT_GT(cp->GetSnapshot()->sequence(), info.sequence + round);
    EXPECT_TRUE(testing::CheckDir(copy).ok());
  }
}

// After a checkpoint that moved the WAL position past 1, a lost WAL
// directory means lost records: Corruption, never a silent fresh log.
TEST(BtreeDbTest, LostWalAfterCheckpointIsCorruption) {
  strata::testing::ScratchDir dir;
  {
    auto db = OpenOrDie(testing::TinyOptions(512), dir.path());
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("k{:05}", i), "v").ok());
    }
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(db->Put(WriteOptions{true}, "after-checkpoint", "v").ok());
  }
  ASSERT_TRUE(io::RemoveTree(io::DefaultFileSystem().get(), dir.Join("wal")).ok());
  std::unique_ptr<Engine> db;
  const Status s = strata::Open(testing::TinyOptions(512), dir.path(), &db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("no WAL segment"), std::string::npos) << s.ToString();
  EXPECT_FALSE(io::DefaultFileSystem()->FileExists(dir.Join("wal")));  // nothing created
}

TEST(BtreeDbTest, CloseCheckpointsAndRefusesLaterWrites) {
  strata::testing::ScratchDir dir;
  auto db = OpenOrDie(testing::TinyOptions(512), dir.path());
  ASSERT_TRUE(db->Put(WriteOptions{}, "a", "1").ok());
  ASSERT_TRUE(db->Close().ok());
  EXPECT_TRUE(db->Put(WriteOptions{}, "b", "2").IsInvalidArgument());
  EXPECT_TRUE(db->Close().IsInvalidArgument());
  // The lock is released: another engine opens the directory at once.
  auto again = OpenOrDie(testing::TinyOptions(512), dir.path());
  ASSERT_NE(again, nullptr);
  std::string v;
  ASSERT_TRUE(again->Get(ReadOptions{}, "a", &v).ok());
  EXPECT_EQ(v, "1");
}

TEST(BtreeDbTest, BulkLoadBuildsAFullTree) {
  for (double fill : {0.5, 0.8, 1.0}) {
    SCOPED_TRACE(fill);
    strata::testing::ScratchDir dir;
    auto db = OpenOrDie(testing::TinyOptions(512), dir.path());
    const int n = 5000;
    int i = 0;
    ASSERT_TRUE(testing::AsBtree(db.get())
                    ->BulkLoad(
                        [&](std::string* k, std::string* v, uint64_t* ver) {
                          if (i == n) return false;
                          *k = fmt::format("b{:06}", i);
                          *v = std::string(i % 50 == 0 ? 700 : i % 40, 'x');
                          *ver = i % 3 == 0 ? i : 0;
                          ++i;
                          return true;
                        },
                        fill)
                    .ok());
    CheckReport report;
    const Status c = testing::CheckDir(dir.path(), &report);
    ASSERT_TRUE(c.ok()) << c.ToString();
    EXPECT_EQ(report.entries, static_cast<uint64_t>(n));
    // Leaves are filled to about `fill` (the last two may be balanced).
    uint64_t leaves = 0, near_fill = 0;
    for (size_t d = 0; d <= 10; ++d) {
      leaves += report.leaf_fill[d];
      if (d + 1 >= static_cast<size_t>(fill * 10)) near_fill += report.leaf_fill[d];
    }
    EXPECT_GE(near_fill * 10, leaves * 9);
    std::string v;
    uint64_t ver = 0;
    ASSERT_TRUE(db->GetVersioned(ReadOptions{}, "b000003", &v, &ver).ok());
    EXPECT_EQ(ver, 3u);
    ASSERT_TRUE(db->Get(ReadOptions{}, "b000050", &v).ok());
    EXPECT_EQ(v.size(), 700u);
    // Writes after a bulk load, and a reopen.
    ASSERT_TRUE(db->Delete(WriteOptions{}, "b000000").ok());
    db.reset();
    db = OpenOrDie(testing::TinyOptions(512), dir.path());
    EXPECT_EQ(testing::Dump(db.get()).size(), static_cast<size_t>(n - 1));
    // Only on an empty tree; keys must increase.
    int j = 0;
    EXPECT_TRUE(testing::AsBtree(db.get())
                    ->BulkLoad([&](std::string* k, std::string*, uint64_t*) {
                      *k = "a";
                      return j++ < 1;
                    }, fill)
                    .IsInvalidArgument());
  }
  strata::testing::ScratchDir dir;
  auto db = OpenOrDie(testing::TinyOptions(512), dir.path());
  int j = 0;
  EXPECT_TRUE(testing::AsBtree(db.get())
                  ->BulkLoad([&](std::string* k, std::string* v, uint64_t*) {
                    *k = j == 1 ? "a" : "b";
                    v->clear();
                    return j++ < 2;
                  }, 0.9)
                  .IsInvalidArgument());
  EXPECT_TRUE(testing::Dump(db.get()).empty());
  EXPECT_TRUE(testing::CheckDir(dir.path()).ok());
}

}  // namespace
}  // namespace strata::btree
