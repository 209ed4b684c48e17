// Power loss and media damage through io::FaultFileSystem.
//
// - From a seeded I/O operation on, every operation fails (the machine died
//   there), the unsynced data is dropped (optionally keeping a random prefix
//   of it: torn tails) and the database is reopened. Every acknowledged sync
//   write must be there, what survives is a prefix of the write order, no
//   half batch, and the checker passes.
// - A torn page write at a checkpoint (silent tear, then power loss).
// - A torn meta page: the newest checkpoint's meta is damaged before it was
//   synced; recovery falls back to the previous meta and redoes the WAL.
// - A bit flipped in any page: Corruption naming the page, or (for pages no
//   tree reaches) nothing at all; never a crash, never wrong data.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "io/fault_file_system.h"
#include "tests/btree/btree_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::btree {
namespace {

// Write i puts w{i} (some values overflow), deletes w{i-40} and sets "last".
std::string WriteKey(uint64_t i) { return fmt::format("w{:08}", i); }
std::string WriteValue(uint64_t i) {
  return fmt::format("{}-{}", i, std::string(i % 7 == 0 ? 900 + i % 500 : i % 90, 'q'));
}
constexpr uint64_t kWindow = 40;

WriteBatch MakeWrite(uint64_t i) {
  WriteBatch batch;
  EXPECT_TRUE(batch.Put(WriteKey(i), WriteValue(i)).ok());
  if (i >= kWindow) {
    EXPECT_TRUE(batch.Delete(WriteKey(i - kWindow)).ok());
  }
  EXPECT_TRUE(batch.Put("last", std::to_string(i)).ok());
  return batch;
}

Options FaultOptions(const std::shared_ptr<io::FaultFileSystem>& fs) {
  Options o = testing::TinyOptions(512);
  o.memtable_bytes = 8 * 1024;  // a checkpoint every 4 KiB of WAL or 8 dirty pages
  o.file_system = fs;
  return o;
}

// The survivors must be exactly writes 0..S-1 for some S >= min_survivors.
void VerifyPrefix(Engine* db, const std::string& dir, uint64_t min_survivors,
                  uint64_t* survivors_out) {
  std::string last_str;
  Status s = db->Get(ReadOptions{}, "last", &last_str);
  uint64_t survivors = 0;
  if (s.ok()) {
    survivors = std::stoull(last_str) + 1;
  } else {
    ASSERT_TRUE(s.IsNotFound()) << s.ToString();
  }
  ASSERT_GE(survivors, min_survivors) << "acknowledged sync write lost";
  auto it = db->NewIterator(ReadOptions{});
  uint64_t i = survivors > kWindow ? survivors - kWindow : 0;
  for (it->Seek("w"); it->Valid(); it->Next(), ++i) {
    ASSERT_EQ(it->key(), WriteKey(i)) << "hole or stale key before write " << i;
    ASSERT_EQ(it->value(), WriteValue(i));
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(i, survivors) << "writes and 'last' disagree (half batch)";
  ASSERT_TRUE(db->Flush().ok());
  const Status c = testing::CheckDir(dir);
  ASSERT_TRUE(c.ok()) << c.ToString();
  *survivors_out = survivors;
}

TEST(BtreePowerLossTest, ManyCrashPoints) {
  const uint64_t seed = strata::testing::TestSeed(31);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  auto fault = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  uint64_t next = 0;
  for (int crash = 0; crash < 16 && !::testing::Test::HasFatalFailure(); ++crash) {
    SCOPED_TRACE(fmt::format("crash {}", crash));
    std::unique_ptr<Engine> db;
    Status s = strata::Open(FaultOptions(fault), dir.path(), &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    io::ErrorInjection death;
    death.ops = io::kFaultAllOps;
    death.path_contains = dir.path();
    death.nth = 1 + rng() % 1500;
    death.fail_count = io::kFailForever;
    fault->InjectError(death);
    uint64_t min_survivors = next;
    const uint64_t writes = 50 + rng() % 600;
    for (uint64_t n = 0; n < writes; ++n) {
      const bool sync = rng() % 4 == 0;
      if (!db->Write(WriteOptions{sync}, MakeWrite(next)).ok()) break;
      ++next;
      if (sync) min_survivors = next;
      if (rng() % 100 == 0 && !db->Flush().ok()) break;
    }
    io::CrashOptions crash_options;
    crash_options.keep_random_unsynced_prefix = rng() % 2 == 0;
    crash_options.seed = rng();
    ASSERT_TRUE(fault->DropUnsyncedData(crash_options).ok());
    db.reset();
    fault->ClearFaults();
    s = strata::Open(FaultOptions(fault), dir.path(), &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    VerifyPrefix(db.get(), dir.path(), min_survivors, &next);
  }
}

// A checkpoint's page write is torn (only a prefix reaches the disk) and the
// power goes before its fdatasync: the durable meta never reaches that page.
TEST(BtreePowerLossTest, TornPageWriteAtCheckpoint) {
  strata::testing::ScratchDir dir;
  auto fault = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  uint64_t next = 0;
  for (uint64_t round = 0; round < 12 && !::testing::Test::HasFatalFailure(); ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    std::unique_ptr<Engine> db;
    Options o = FaultOptions(fault);
    o.memtable_bytes = 1 * kMiB;  // checkpoints only when asked
    ASSERT_TRUE(strata::Open(o, dir.path(), &db).ok());
    for (int n = 0; n < 60; ++n) ASSERT_TRUE(db->Write(WriteOptions{true}, MakeWrite(next++)).ok());
    // The tear hits the first page write of the checkpoint; its sync fails.
    fault->TearNextWrite(io::TearSpec{"btree.db", 100 + round * 37, true});
    io::ErrorInjection sync_fails;
    sync_fails.ops = io::Mask(io::FaultOp::kSync);
    sync_fails.path_contains = "btree.db";
    sync_fails.fail_count = io::kFailForever;
    fault->InjectError(sync_fails);
    EXPECT_FALSE(db->Flush().ok());
    // A failed engine refuses writes from now on.
    EXPECT_FALSE(db->Put(WriteOptions{}, "x", "y").ok());
    ASSERT_TRUE(fault->DropUnsyncedData(io::CrashOptions{true, round}).ok());
    db.reset();
    fault->ClearFaults();
    ASSERT_TRUE(strata::Open(o, dir.path(), &db).ok());
    VerifyPrefix(db.get(), dir.path(), next, &next);
  }
}

// The newest meta page is damaged (a torn write that reached the disk): the
// previous one and the WAL after it give the same state.
TEST(BtreePowerLossTest, TornMetaPageFallsBackToThePreviousCheckpoint) {
  strata::testing::ScratchDir dir;
  auto fault = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  uint64_t next = 0;
  Options o = FaultOptions(fault);
  o.memtable_bytes = 1 * kMiB;
  for (int round = 0; round < 6 && !::testing::Test::HasFatalFailure(); ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(o, dir.path(), &db).ok());
    for (int n = 0; n < 50; ++n) ASSERT_TRUE(db->Write(WriteOptions{true}, MakeWrite(next++)).ok());
    CheckReport before;
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(testing::CheckDir(dir.path(), &before).ok());
    for (int n = 0; n < 50; ++n) ASSERT_TRUE(db->Write(WriteOptions{true}, MakeWrite(next++)).ok());
    // The meta write is the second write of the checkpoint's file syncs: fail
    // its sync, then damage the slot it went to.
    io::ErrorInjection meta_sync;
    meta_sync.ops = io::Mask(io::FaultOp::kSync);
    meta_sync.path_contains = "btree.db";
    meta_sync.nth = 2;
    meta_sync.fail_count = io::kFailForever;
    fault->InjectError(meta_sync);
    EXPECT_FALSE(db->Flush().ok());
    ASSERT_TRUE(fault->DropUnsyncedData().ok());
    db.reset();
    fault->ClearFaults();
    const uint64_t slot = (before.meta.checkpoint + 1) % 2;
    ASSERT_TRUE(fault->CorruptFileAt(dir.Join(kDataFileName), slot * 512 + 60, 3).ok());
    CheckReport after;
    ASSERT_TRUE(testing::CheckDir(dir.path(), &after).ok());
    EXPECT_EQ(after.meta.checkpoint, before.meta.checkpoint);
    ASSERT_TRUE(strata::Open(o, dir.path(), &db).ok());
    VerifyPrefix(db.get(), dir.path(), next, &next);
  }
}

// Every page of a small database, one flipped bit at a time.
TEST(BtreeCorruptionTest, FlippedBitInAnyPageIsCorruptionNamingThePage) {
  strata::testing::ScratchDir dir;
  auto fault = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  Options o = FaultOptions(fault);
  o.memtable_bytes = 1 * kMiB;
  std::map<std::string, std::string> expected;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(o, dir.path(), &db).ok());
    for (uint64_t i = 0; i < 300; ++i) {
      ASSERT_TRUE(db->Write(WriteOptions{}, MakeWrite(i)).ok());
      if (i % 100 == 99) {
        ASSERT_TRUE(db->Flush().ok());
      }
    }
    expected = testing::Dump(db.get());
  }
  CheckReport report;
  ASSERT_TRUE(testing::CheckDir(dir.path(), &report).ok());
  const std::string file = dir.Join(kDataFileName);
  // Opening a damaged copy may write (a recovery checkpoint): every round
  // starts from a pristine copy of the directory.
  strata::testing::ScratchDir pristine;
  std::filesystem::copy(dir.path(), pristine.path(),
                        std::filesystem::copy_options::recursive |
                            std::filesystem::copy_options::overwrite_existing);
  std::mt19937_64 rng(7);
  int corruptions = 0;
  for (uint64_t page = 0; page < report.meta.page_count; ++page) {
    SCOPED_TRACE(fmt::format("page {}", page));
    const uint64_t offset = page * 512 + rng() % 512;
    const int bit = static_cast<int>(rng() % 8);
    ASSERT_TRUE(fault->CorruptFileAt(file, offset, bit).ok());
    std::unique_ptr<Engine> db;
    Status s = strata::Open(o, dir.path(), &db);
    const std::string name = fmt::format("page {}", page);
    if (s.ok()) {
      auto it = db->NewIterator(ReadOptions{});
      std::map<std::string, std::string> got;
      for (it->SeekToFirst(); it->Valid(); it->Next()) got[std::string(it->key())] = it->value();
      s = it->status();
      if (s.ok()) {
        EXPECT_EQ(got.size(), expected.size());
        EXPECT_TRUE(got == expected);
        // The checker sees the damage unless no tree or list reaches the page.
        CheckReport r;
        const Status c = testing::CheckDir(dir.path(), &r);
        if (!c.ok()) {
          EXPECT_NE(c.ToString().find(name), std::string::npos) << c.ToString();
        }
      }
      db.reset();
    }
    if (!s.ok()) {
      ++corruptions;
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      // A meta page is named by the meta check, or the WAL gap it causes.
      if (page >= kMetaPages) {
        EXPECT_NE(s.ToString().find(name), std::string::npos) << s.ToString();
      }
    }
    std::filesystem::remove_all(dir.path());
    std::filesystem::copy(pristine.path(), dir.path(), std::filesystem::copy_options::recursive);
  }
  // Every page a tree or the free list reaches is read by the open or the scan.
  uint64_t reachable = 0;
  for (PageType t : {PageType::kBranch, PageType::kLeaf, PageType::kOverflow, PageType::kFreeList}) {
    reachable += report.pages_by_type[static_cast<size_t>(t)];
  }
  EXPECT_GE(static_cast<uint64_t>(corruptions), reachable);
  EXPECT_GT(reachable, 10u);
}

}  // namespace
}  // namespace strata::btree
