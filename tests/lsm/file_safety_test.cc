// The LSM engine never deletes or overwrites a file it cannot prove
// obsolete: the live manifest survives a rollover during the obsolete-file
// scan (and hundreds of rollovers during flushes and compactions), a
// directory without CURRENT (or with a CURRENT naming a missing manifest)
// is Corruption rather than a new empty database, and tables found at open
// that the manifest cannot account for are kept.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <random>

#include "io/fault_file_system.h"
#include "lsm/db_impl.h"
#include "lsm/manifest.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

namespace fs = std::filesystem;
using testing::TinyOptions;

std::string Key(int i) { return fmt::format("key{:06}", i); }
std::string Value(int i, int round) {
  return fmt::format("v{}-{}-{}", i, round, std::string(40, 'x'));
}

DBImpl* Impl(const std::unique_ptr<Engine>& db) { return static_cast<DBImpl*>(db.get()); }

std::vector<std::string> Names(const std::string& dir, std::string_view needle) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(needle) != std::string::npos) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Every key of the engine, by a full scan.
std::map<std::string, std::string> Contents(Engine* db) {
  std::map<std::string, std::string> out;
  auto it = db->NewIterator(ReadOptions{});
  for (it->SeekToFirst(); it->Valid(); it->Next()) out[std::string(it->key())] = it->value();
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

// --- Item 2: the live manifest and the obsolete-file scan ------------------

// A manifest rollover between the moment DeleteObsoleteFiles learns which
// manifest is live and the moment it lists the directory: the scan must not
// delete the new live manifest (it did: it removed every MANIFEST-* but the
// one it had read, and the next Open failed).
TEST(ManifestRolloverTest, RolloverDuringObsoleteScanKeepsTheLiveManifest) {
  strata::testing::ScratchDir dir;
  Options options = TinyOptions();
  options.manifest_rollover_bytes = 0;   // every edit writes a new manifest
  options.l0_compaction_trigger = 1000;  // compactions only when asked for
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, 0)).ok());
    std::atomic<bool> fired{false};
    std::promise<Status> hook_done;
    Engine* engine = db.get();
    Impl(db)->SetObsoleteScanHookForTesting([&] {
      if (fired.exchange(true)) return;
      // The flush thread is inside DeleteObsoleteFiles: the compaction
      // thread rolls the manifest over now (the memtable is empty, so
      // CompactAll needs nothing from the flush thread).
      hook_done.set_value(engine->CompactAll());
    });
    const uint64_t manifest_before = Impl(db)->versions_for_testing().manifest_number();
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(hook_done.get_future().get().ok());
    ASSERT_TRUE(Impl(db)->WaitForCompactions().ok());
    Impl(db)->SetObsoleteScanHookForTesting(nullptr);
    const uint64_t live = Impl(db)->versions_for_testing().manifest_number();
    EXPECT_GT(live, manifest_before + 1);  // the flush and the compaction each rolled over
    EXPECT_TRUE(fs::exists(dir.Join(ManifestFileName(live))));
    EXPECT_EQ(Names(dir.path(), "MANIFEST-"), std::vector<std::string>{ManifestFileName(live)});
  }
  std::unique_ptr<Engine> db;
  Status s = strata::Open(options, dir.path(), &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(testing::GetOrStatus(db.get(), Key(i)), Value(i, 0));
}

class ManifestRolloverStress : public ::testing::TestWithParam<CompactionStyle> {};

// Hundreds of rollovers while the flush and compaction threads both log
// edits and collect garbage: every reopen finds the whole database.
TEST_P(ManifestRolloverStress, RolloversDuringFlushesAndCompactions) {
  const uint64_t seed = strata::testing::TestSeed(91);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  Options options = TinyOptions(GetParam());
  options.memtable_bytes = 16 * 1024;
  options.manifest_rollover_bytes = 0;  // every edit writes a new manifest
  options.l0_compaction_trigger = 2;
  std::map<std::string, std::string> model;
  uint64_t rollovers = 0;
  constexpr int kRounds = 4;
  constexpr int kKeys = 1500;
  for (int round = 0; round < kRounds; ++round) {
    std::unique_ptr<Engine> db;
    Status s = strata::Open(options, dir.path(), &db);
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.ToString();
    ASSERT_EQ(Contents(db.get()), model) << "round " << round;
    for (int n = 0; n < 2000; ++n) {
      const int i = static_cast<int>(rng() % kKeys);
      if (rng() % 8 == 0) {
        ASSERT_TRUE(db->Delete(WriteOptions{}, Key(i)).ok());
        model.erase(Key(i));
      } else {
        ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, round)).ok());
        model[Key(i)] = Value(i, round);
      }
    }
    ASSERT_TRUE(Impl(db)->WaitForCompactions().ok());
    rollovers += Impl(db)->versions_for_testing().manifest_rollovers();
    EXPECT_EQ(Names(dir.path(), "MANIFEST-").size(), 1u);
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  EXPECT_EQ(Contents(db.get()), model);
  EXPECT_GE(rollovers, 200u);
  RecordProperty("manifest_rollovers", std::to_string(rollovers));
}

INSTANTIATE_TEST_SUITE_P(Styles, ManifestRolloverStress, testing::kBothStyles, testing::StyleName);

// --- Rare-path limits as options ------------------------------------------

TEST(RarePathOptionsTest, OutOfRangeValuesAreInvalidArgument) {
  strata::testing::ScratchDir dir;
  for (auto change : std::vector<std::function<void(Options*)>>{
           [](Options* o) { o->l0_compaction_trigger = 0; },
           [](Options* o) { o->block_cache_shard_bits = -1; },
           [](Options* o) { o->block_cache_shard_bits = kBlockCacheShardBitsMax + 1; }}) {
    Options options = TinyOptions();
    change(&options);
    std::unique_ptr<Engine> db;
    EXPECT_TRUE(strata::Open(options, dir.path(), &db).IsInvalidArgument());
  }
}

// A tiny cache asked for many shards (BlockCacheShardBitsFor lowers them to
// one: constant eviction), with a compaction after every flush: every read
// is still right.
TEST(RarePathOptionsTest, TinyCacheShardsAndCompactionTrigger) {
  for (int shard_bits : {0, 3, kBlockCacheShardBitsMax}) {
    SCOPED_TRACE(fmt::format("shard_bits={}", shard_bits));
    strata::testing::ScratchDir dir;
    Options options = TinyOptions();
    options.block_cache_bytes = 32 * 1024;
    options.block_cache_shard_bits = shard_bits;
    options.l0_compaction_trigger = 1;
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
    for (int i = 0; i < 3000; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, 0)).ok());
    ASSERT_TRUE(Impl(db)->WaitForCompactions().ok());
    const EngineStats before = db->Stats();
    EXPECT_GT(testing::Property(before, "lsm.compactions") +
                  testing::Property(before, "lsm.trivial_moves"),
              0u);
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 3000; i += 7) {
        ASSERT_EQ(testing::GetOrStatus(db.get(), Key(i)), Value(i, 0)) << i;
      }
    }
    const EngineStats after = db->Stats();
    EXPECT_LE(testing::Property(after, "cache.usage_bytes"), options.block_cache_bytes);
    EXPECT_GT(testing::Property(after, "cache.misses"), testing::Property(before, "cache.misses"));
  }
}

// --- Item 7: no CURRENT, or a CURRENT that names nothing -------------------

// A database with tables (flushed) or with only a WAL (not flushed yet).
void BuildDb(const std::string& dir, int count, bool flush) {
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir, &db).ok());
  for (int i = 0; i < count; ++i)
    ASSERT_TRUE(db->Put(WriteOptions{true}, Key(i), Value(i, 0)).ok());
  if (flush) {
    ASSERT_TRUE(db->CompactAll().ok());
  }
}

// name -> bytes of every file directly in dir.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) out[e.path().filename().string()] = ReadAll(e.path().string());
  }
  return out;
}

// The same names with the same bytes (LOCK and the info log aside: Open
// creates the lock and logs, to LOG, why it refused to open).
void ExpectSameFiles(std::map<std::string, std::string> before,
                     std::map<std::string, std::string> after) {
  for (const char* name : {"LOCK", "LOG", "LOG.old"}) {
    before.erase(name);
    after.erase(name);
  }
  for (const auto& [name, bytes] : before) {
    EXPECT_TRUE(after.count(name) && after[name] == bytes) << name << " removed or changed";
  }
  for (const auto& [name, bytes] : after) EXPECT_TRUE(before.count(name)) << name << " created";
}

// A flush whose manifest fsync fails leaves its record in the manifest file.
// The table it names must survive any later garbage collection of the same
// process (another job finishing), or the next open fails with NotFound
// (found by strata stress --faults).
TEST(FailedManifestSyncTest, FlushedTableSurvivesGarbageCollectionAndReopens) {
  strata::testing::ScratchDir dir;
  auto fault_fs = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  Options options = TinyOptions();
  options.file_system = fault_fs;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, 0)).ok());
  io::ErrorInjection manifest_sync;
  manifest_sync.ops = io::Mask(io::FaultOp::kSync);
  manifest_sync.path_contains = "MANIFEST";
  fault_fs->InjectError(manifest_sync);
  EXPECT_FALSE(db->Flush().ok());
  fault_fs->ClearFaults();
  const std::vector<std::string> tables = Names(dir.path(), ".sst");
  ASSERT_FALSE(tables.empty());
  Impl(db)->DeleteObsoleteFilesForTesting();
  EXPECT_EQ(Names(dir.path(), ".sst"), tables);
  db.reset();
  options.file_system = nullptr;
  Status s = strata::Open(options, dir.path(), &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::map<std::string, std::string> contents = Contents(db.get());
  for (int i = 0; i < 200; ++i) EXPECT_EQ(contents[Key(i)], Value(i, 0)) << i;
}

TEST(MissingCurrentTest, TablesWithoutCurrentAreCorruptionAndStayOnDisk) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 400, true);
  ASSERT_FALSE(Names(dir.path(), ".sst").empty());
  fs::remove(dir.Join("CURRENT"));
  const auto before = Snapshot(dir.path());
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<Engine> db;
    Status s = strata::Open(TinyOptions(), dir.path(), &db);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("no CURRENT"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(".sst"), std::string::npos) << s.ToString();
  }
  ExpectSameFiles(before, Snapshot(dir.path()));
}

TEST(MissingCurrentTest, WalWithoutCurrentIsCorruption) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 50, false);  // the data is only in the WAL
  ASSERT_TRUE(Names(dir.path(), ".sst").empty());
  fs::remove(dir.Join("CURRENT"));
  std::unique_ptr<Engine> db;
  Status s = strata::Open(TinyOptions(), dir.path(), &db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("wal/"), std::string::npos) << s.ToString();
}

// With Options::wal_dir the message names the segment where it lives.
TEST(MissingCurrentTest, WalElsewhereWithoutCurrentNamesItsPath) {
  strata::testing::ScratchDir dir;
  Options options = TinyOptions();
  options.wal_dir = dir.Join("waldisk");
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(options, dir.Join("db"), &db).ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, 0)).ok());
  }
  fs::remove(dir.Join("db/CURRENT"));
  std::unique_ptr<Engine> db;
  Status s = strata::Open(options, dir.Join("db"), &db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(dir.Join("waldisk") + "/0"), std::string::npos) << s.ToString();
}

TEST(MissingCurrentTest, ManifestWithContentWithoutCurrentIsCorruption) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 400, true);
  fs::remove(dir.Join("CURRENT"));
  for (const auto& name : Names(dir.path(), ".sst")) fs::remove(dir.Join(name));
  fs::remove_all(dir.Join("wal"));
  std::unique_ptr<Engine> db;
  Status s = strata::Open(TinyOptions(), dir.path(), &db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("MANIFEST-"), std::string::npos) << s.ToString();
}

// A crash while a database is being created leaves KIND and a first
// manifest describing an empty database, but no CURRENT and no WAL yet:
// that opens as the new database it was meant to be.
TEST(MissingCurrentTest, InterruptedCreationOpensAsNewDatabase) {
  strata::testing::ScratchDir dir;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  }
  fs::remove(dir.Join("CURRENT"));
  fs::remove_all(dir.Join("wal"));
  const auto manifests = Names(dir.path(), "MANIFEST-");
  ASSERT_EQ(manifests.size(), 1u);
  {
    std::unique_ptr<Engine> db;
    Status s = strata::Open(TinyOptions(), dir.path(), &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(db->Put(WriteOptions{true}, "k", "v").ok());
    // The new manifest did not reuse (overwrite) the old one's number.
    EXPECT_NE(Impl(db)->versions_for_testing().manifest_number(), 1u);
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  EXPECT_EQ(testing::GetOrStatus(db.get(), "k"), "v");
}

TEST(MissingCurrentTest, CurrentNamingAMissingManifestIsCorruption) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 400, true);
  const auto manifests = Names(dir.path(), "MANIFEST-");
  ASSERT_EQ(manifests.size(), 1u);
  fs::remove(dir.Join(manifests[0]));
  const auto before = Snapshot(dir.path());
  std::unique_ptr<Engine> db;
  Status s = strata::Open(TinyOptions(), dir.path(), &db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(manifests[0]), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("does not exist"), std::string::npos) << s.ToString();
  ExpectSameFiles(before, Snapshot(dir.path()));
}

TEST(MissingCurrentTest, GarbledManifestIsCorruptionAndNothingIsDeleted) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 400, true);
  const auto manifests = Names(dir.path(), "MANIFEST-");
  ASSERT_EQ(manifests.size(), 1u);
  { std::ofstream(dir.Join(manifests[0]), std::ios::trunc | std::ios::binary) << "garbage bytes"; }
  const auto ssts = Names(dir.path(), ".sst");
  std::unique_ptr<Engine> db;
  Status s = strata::Open(TinyOptions(), dir.path(), &db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(manifests[0]), std::string::npos) << s.ToString();
  EXPECT_EQ(Names(dir.path(), ".sst"), ssts);
}

// --- Tables the manifest does not account for -----------------------------

struct DbShape {
  uint64_t next_file_number = 0;
  std::set<uint64_t> live;
};

DbShape ShapeOf(const std::string& dir) {
  std::unique_ptr<Engine> db;
  EXPECT_TRUE(strata::Open(TinyOptions(), dir, &db).ok());
  DbShape shape;
  shape.next_file_number = Impl(db)->versions_for_testing().next_file_number();
  shape.live = Impl(db)->versions_for_testing().LiveFiles();
  return shape;
}

// A table numbered at or above the manifest's next file number is not
// provably this database's garbage (an output whose edit never landed, or a
// table from a restored copy): kept through flushes and compactions and
// never overwritten by a new table. One below it that no version
// references is garbage the manifest accounts for: deleted.
TEST(UnreferencedTablesTest, KeptUnlessTheManifestProvesThemObsolete) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 400, true);
  const DbShape shape = ShapeOf(dir.path());
  ASSERT_FALSE(shape.live.empty());
  const std::string some_table = dir.Join(TableFileName(*shape.live.begin()));
  const uint64_t above = shape.next_file_number + 3;
  uint64_t below = 1;
  while (shape.live.count(below)) ++below;
  ASSERT_LT(below, shape.next_file_number);
  fs::copy_file(some_table, dir.Join(TableFileName(above)));
  fs::copy_file(some_table, dir.Join(TableFileName(below)));
  const std::string above_bytes = ReadAll(dir.Join(TableFileName(above)));
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
    EXPECT_EQ(Impl(db)->versions_for_testing().files_kept_at_open(), std::set<uint64_t>{above});
    EXPECT_FALSE(fs::exists(dir.Join(TableFileName(below))));
    for (int round = 0; round < 6; ++round) {
      for (int i = 0; i < 300; ++i) {
        ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, round + 1)).ok());
      }
      ASSERT_TRUE(db->Flush().ok());
    }
    ASSERT_TRUE(db->CompactAll().ok());
    EXPECT_GT(Impl(db)->versions_for_testing().next_file_number(), above + 1);
  }
  // Later opens find it below the manifest's next file number now: the
  // manifest recorded that it was kept, so they keep it too.
  for (int reopen = 0; reopen < 2; ++reopen) {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
    EXPECT_EQ(Impl(db)->versions_for_testing().files_kept_at_open(), std::set<uint64_t>{above});
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, 9)).ok());
    ASSERT_TRUE(db->CompactAll().ok());
  }
  EXPECT_TRUE(ReadAll(dir.Join(TableFileName(above))) == above_bytes) << "overwritten or removed";
}

// After a torn manifest tail (a crash during an edit), no unreferenced
// table is deleted at open: recovery was not clean.
TEST(UnreferencedTablesTest, TornManifestTailKeepsEveryUnreferencedTable) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 400, true);
  const DbShape shape = ShapeOf(dir.path());
  uint64_t below = 1;
  while (shape.live.count(below)) ++below;
  fs::copy_file(dir.Join(TableFileName(*shape.live.begin())), dir.Join(TableFileName(below)));
  const auto manifests = Names(dir.path(), "MANIFEST-");
  ASSERT_EQ(manifests.size(), 1u);
  {
    std::ofstream f(dir.Join(manifests[0]), std::ios::app | std::ios::binary);
    f.write("\x10\x00\x00", 3);
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  EXPECT_TRUE(Impl(db)->versions_for_testing().files_kept_at_open().count(below));
  ASSERT_TRUE(db->Put(WriteOptions{}, "x", "y").ok());
  ASSERT_TRUE(db->CompactAll().ok());
  db.reset();
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());  // a clean manifest now
  ASSERT_TRUE(db->CompactAll().ok());
  EXPECT_TRUE(fs::exists(dir.Join(TableFileName(below))));
}

// Manifests: one numbered above the live one (a rollover cut short before
// CURRENT moved, or a file from elsewhere) is kept; below it, deleted.
TEST(UnreferencedTablesTest, ManifestsAboveTheLiveOneAreKept) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 100, true);
  const DbShape shape = ShapeOf(dir.path());
  const auto manifests = Names(dir.path(), "MANIFEST-");
  ASSERT_EQ(manifests.size(), 1u);
  const std::string above = ManifestFileName(shape.next_file_number + 5);
  const std::string below = ManifestFileName(1);
  ASSERT_NE(below, manifests[0]);
  fs::copy_file(dir.Join(manifests[0]), dir.Join(above));
  fs::copy_file(dir.Join(manifests[0]), dir.Join(below));
  Options options = TinyOptions();
  options.manifest_rollover_bytes = 0;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, 1)).ok());
  ASSERT_TRUE(db->CompactAll().ok());
  EXPECT_TRUE(fs::exists(dir.Join(above)));
  EXPECT_FALSE(fs::exists(dir.Join(below)));
  EXPECT_GT(Impl(db)->versions_for_testing().manifest_number(), shape.next_file_number + 5);
  db.reset();
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());  // now below the live one
  ASSERT_TRUE(db->Put(WriteOptions{}, "x", "y").ok());
  ASSERT_TRUE(db->CompactAll().ok());
  EXPECT_TRUE(fs::exists(dir.Join(above)));
}

// Names that only look like the engine's files are never touched.
TEST(UnreferencedTablesTest, ForeignNamesAreLeftAlone) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 100, true);
  for (const char* name : {"notes.sst", "12x.sst", ".sst", "MANIFEST-", "MANIFEST-old",
                           "MANIFEST-000001.bak", "000001.sst.bak"}) {
    std::ofstream(dir.Join(name)) << "user file";
  }
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i, 1)).ok());
    ASSERT_TRUE(db->CompactAll().ok());
  }
  for (const char* name : {"notes.sst", "12x.sst", ".sst", "MANIFEST-", "MANIFEST-old",
                           "MANIFEST-000001.bak", "000001.sst.bak"}) {
    EXPECT_TRUE(fs::exists(dir.Join(name))) << name;
  }
}

}  // namespace
}  // namespace strata::lsm
