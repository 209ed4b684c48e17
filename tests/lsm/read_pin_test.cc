// Reads without the engine mutex (issue 15, item 1): Get, NewIterator and
// GetSnapshot pin the published SuperVersion atomically; what they pin stays
// readable and on disk while writes, flushes and compactions go on. Built
// and run under the tsan preset too.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include "lsm/db_impl.h"
#include "lsm/manifest.h"
#include "lsm/super_version.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

constexpr int kKeys = 300;

std::string Key(int i) { return fmt::format("key{:05}", i); }
// "<key>:<round>:<padding>": a reader tells a misplaced value from an older one.
std::string Value(int key, uint64_t round) {
  return fmt::format("{}:{}:{}", key, round, std::string(24 + key % 32, 'v'));
}
// The round a value of key `k` names, or -1 if it is not a value of `k`.
int64_t RoundOf(int k, std::string_view v) {
  const std::string prefix = fmt::format("{}:", k);
  if (v.substr(0, prefix.size()) != prefix) return -1;
  const size_t end = v.find(':', prefix.size());
  if (end == std::string_view::npos) return -1;
  return std::stoll(std::string(v.substr(prefix.size(), end - prefix.size())));
}

void WriteRound(Engine* db, uint64_t round) {
  WriteBatch batch;
  for (int k = 0; k < kKeys; ++k) ASSERT_TRUE(batch.Put(Key(k), Value(k, round)).ok());
  ASSERT_TRUE(db->Write(WriteOptions{}, batch).ok());
}

// Reads a whole scan: every key once, in order, all from one round.
// Returns that round, or -1 on any inconsistency.
int64_t ScanRound(Iterator* it) {
  int k = 0;
  int64_t round = -1;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++k) {
    if (k >= kKeys || it->key() != Key(k)) return -1;
    const int64_t r = RoundOf(k, it->value());
    if (r < 0 || (k > 0 && r != round)) return -1;
    round = r;
  }
  if (!it->status().ok() || k != kKeys) return -1;
  return round;
}

std::set<std::string> TableFiles(const std::string& dir) {
  std::set<std::string> tables;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    uint64_t number = 0;
    const std::string name = entry.path().filename().string();
    if (ParseDbFileName(name, &number) == DbFileKind::kTable) tables.insert(name);
  }
  return tables;
}

std::shared_ptr<const SuperVersion> MakeSuperVersion() {
  auto sv = std::make_shared<SuperVersion>();
  sv->mem = std::make_shared<MemTable>(1);
  return sv;
}

// The slot hands out what was installed last; a thread takes the slot's
// mutex once per install and then reads from its cache; the cache keeps no
// old SuperVersion (and so no memtable or table) alive; two slots used by
// one thread never mix.
TEST(SuperVersionSlotTest, CachesPerThreadWithoutKeepingOldVersionsAlive) {
  SuperVersionSlot a;
  SuperVersionSlot b;
  std::shared_ptr<const SuperVersion> a1 = MakeSuperVersion();
  std::shared_ptr<const SuperVersion> b1 = MakeSuperVersion();
  a.Install(a1);
  b.Install(b1);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(a.Get(), a1);
    ASSERT_EQ(b.Get(), b1);
  }
  // Alternating slots evict each other's cache entry, so each Get missed.
  EXPECT_EQ(a.slow_gets(), 200u);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(a.Get(), a1);
  EXPECT_EQ(a.slow_gets(), 201u);
  for (int round = 0; round < 100; ++round) {
    std::weak_ptr<const SuperVersion> old_sv = a1;
    std::weak_ptr<MemTable> old_mem = a1->mem;
    a1 = MakeSuperVersion();
    a.Install(a1);
    EXPECT_TRUE(old_sv.expired());  // neither the slot nor this thread's cache holds it
    EXPECT_TRUE(old_mem.expired());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(a.Get(), a1);
  }
  EXPECT_EQ(a.slow_gets(), 301u);
  // Another thread has its own cache.
  std::thread([&] { EXPECT_EQ(a.Get(), a1); }).join();
  EXPECT_EQ(a.slow_gets(), 302u);
}

// Installs racing with readers: a reader never gets a SuperVersion older
// than the newest one installed before its Get started.
TEST(SuperVersionSlotTest, ReadersRacingInstalls) {
  SuperVersionSlot slot;
  constexpr uint64_t kInstalls = 2000;
  std::vector<std::shared_ptr<const SuperVersion>> all;
  for (uint64_t i = 0; i <= kInstalls; ++i) all.push_back(MakeSuperVersion());
  std::atomic<uint64_t> installed{0};
  slot.Install(all[0]);
  std::atomic<uint64_t> errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (installed.load() < kInstalls) {
        const uint64_t floor = installed.load();
        std::shared_ptr<const SuperVersion> sv = slot.Get();
        uint64_t index = 0;
        while (index <= kInstalls && all[index] != sv) ++index;
        if (index > kInstalls || index < floor) errors.fetch_add(1);
      }
    });
  }
  for (uint64_t i = 1; i <= kInstalls; ++i) {
    slot.Install(all[i]);
    installed.store(i);
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0u);
}

// With the engine mutex held (as the write leader, flushes and compactions
// hold it), Get, NewIterator and GetSnapshot on another thread still complete.
// Before reads pinned the SuperVersion atomically, each of them waited for
// the mutex: the reader never finished while the mutex was held. The wait
// below only detects that deadlock; it is never reached when reads work.
TEST(LsmReadPinTest, ReadsDoNotWaitForTheEngineMutex) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> engine;
  ASSERT_TRUE(strata::Open(testing::TinyOptions(), dir.path(), &engine).ok());
  auto* db = static_cast<DBImpl*>(engine.get());
  WriteRound(db, 0);
  ASSERT_TRUE(db->Flush().ok());
  WriteRound(db, 1);  // some in the memtable, all of round 0 in a table

  std::promise<int64_t> result;
  std::future<int64_t> done = result.get_future();
  std::thread reader;
  bool finished = false;
  db->RunWithMutexHeldForTesting([&] {
    reader = std::thread([&] {
      int64_t ok = 1;
      std::string value;
      if (!db->Get(ReadOptions{}, Key(7), &value).ok() || RoundOf(7, value) != 1) ok = 0;
      auto snap = db->GetSnapshot();
      ReadOptions ro;
      ro.snapshot = snap.get();
      auto it = db->NewIterator(ro);
      if (ScanRound(it.get()) != 1) ok = 0;
      it.reset();
      snap.reset();
      result.set_value(ok);
    });
    finished = done.wait_for(std::chrono::seconds(120)) == std::future_status::ready;
  });
  reader.join();  // the mutex is free now, so a blocked reader finishes too
  EXPECT_TRUE(finished) << "a read waited for the engine mutex";
  EXPECT_EQ(done.get(), 1);
  ASSERT_TRUE(db->Close().ok());
}

class LsmReadPinConcurrencyTest : public ::testing::TestWithParam<CompactionStyle> {};

// Point readers, snapshot readers and long-lived iterators run while a
// writer overwrites whole rounds (one batch each) with tiny memtables, so
// that memtable switches, flushes, compactions and SuperVersion installs
// happen throughout. Every read must see one whole round, never older than
// what was visible when it started.
TEST_P(LsmReadPinConcurrencyTest, ReadersSnapshotsAndIteratorsDuringWritesFlushesCompactions) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(testing::TinyOptions(GetParam()), dir.path(), &db).ok());
  WriteRound(db.get(), 0);
  constexpr uint64_t kRounds = 40;
  std::atomic<uint64_t> visible_round{0};  // every round <= it is fully visible
  std::atomic<bool> done{false};
  std::atomic<uint64_t> errors{0};
  std::thread writer([&] {
    for (uint64_t round = 1; round <= kRounds; ++round) {
      WriteRound(db.get(), round);
      visible_round.store(round);
      if (round % 8 == 0 && !db->CompactAll().ok()) errors.fetch_add(1);
      if (round % 8 == 4 && !db->Flush().ok()) errors.fetch_add(1);
    }
    done.store(true);
  });
  auto point_reader = [&](int stride) {
    for (int i = 0; !done.load(); ++i) {
      const int k = (i * stride) % kKeys;
      const int64_t floor = static_cast<int64_t>(visible_round.load());
      std::string value;
      Status s = db->Get(ReadOptions{}, Key(k), &value);
      if (!s.ok() || RoundOf(k, value) < floor) errors.fetch_add(1);
    }
  };
  auto snapshot_reader = [&] {
    while (!done.load()) {
      const int64_t floor = static_cast<int64_t>(visible_round.load());
      auto snap = db->GetSnapshot();
      ReadOptions ro;
      ro.snapshot = snap.get();
      std::string first;
      if (!db->Get(ro, Key(0), &first).ok()) {
        errors.fetch_add(1);
        continue;
      }
      const int64_t round = RoundOf(0, first);
      if (round < floor) errors.fetch_add(1);
      // Later point reads at the snapshot see the same round, whatever the
      // writer, the flushes and the compactions did meanwhile.
      for (int k = 1; k < kKeys; k += 13) {
        std::string value;
        if (!db->Get(ro, Key(k), &value).ok() || RoundOf(k, value) != round) errors.fetch_add(1);
      }
    }
  };
  auto iterator_reader = [&] {
    while (!done.load()) {
      const int64_t floor = static_cast<int64_t>(visible_round.load());
      auto it = db->NewIterator(ReadOptions{});
      // Hold it across some of the writer's work before reading it.
      std::this_thread::yield();
      const int64_t round = ScanRound(it.get());
      if (round < floor) errors.fetch_add(1);
      // A second pass over the same pinned state gives the same round.
      if (ScanRound(it.get()) != round) errors.fetch_add(1);
    }
  };
  std::vector<std::thread> readers;
  readers.emplace_back(point_reader, 37);
  readers.emplace_back(point_reader, 11);
  readers.emplace_back(snapshot_reader);
  readers.emplace_back(iterator_reader);
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_EQ(testing::GetOrStatus(db.get(), Key(5)), Value(5, kRounds));
  ASSERT_TRUE(db->Close().ok());
}

// An iterator pins its Version: its tables stay on disk through flushes and
// compactions that make them obsolete, and go once it is released.
TEST_P(LsmReadPinConcurrencyTest, PinnedTablesStayOnDiskUntilReleased) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> engine;
  ASSERT_TRUE(strata::Open(testing::TinyOptions(GetParam()), dir.path(), &engine).ok());
  auto* db = static_cast<DBImpl*>(engine.get());
  for (uint64_t round = 0; round < 4; ++round) WriteRound(db, round);
  ASSERT_TRUE(db->CompactAll().ok());
  ASSERT_TRUE(db->WaitForCompactions().ok());
  const std::set<std::string> pinned = TableFiles(dir.path());
  ASSERT_FALSE(pinned.empty());
  auto it = db->NewIterator(ReadOptions{});
  auto snap = db->GetSnapshot();
  // Every round rewrites every key, and CompactAll rewrites every table.
  for (uint64_t round = 4; round < 12; ++round) {
    WriteRound(db, round);
    if (round % 2 == 1) {
      ASSERT_TRUE(db->CompactAll().ok());
    }
  }
  ASSERT_TRUE(db->WaitForCompactions().ok());
  for (const std::string& name : pinned) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir.path()) / name)) << name;
  }
  EXPECT_EQ(ScanRound(it.get()), 3);
  EXPECT_EQ(testing::GetOrStatus(db, Key(9), snap.get()), Value(9, 3));
  it.reset();
  snap.reset();
  // Released: the next compaction's cleanup removes them.
  WriteRound(db, 12);
  ASSERT_TRUE(db->CompactAll().ok());
  ASSERT_TRUE(db->WaitForCompactions().ok());
  for (const std::string& name : pinned) {
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir.path()) / name)) << name;
  }
  ASSERT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Styles, LsmReadPinConcurrencyTest, testing::kBothStyles,
                         testing::StyleName);

}  // namespace
}  // namespace strata::lsm
