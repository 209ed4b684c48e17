// Concurrent readers, iterators and snapshots during writes (synced and not),
// checkpoints and evictions: every view is one consistent state (a batch is
// seen whole), iterators stay ordered, and nothing crashes. Run it under the
// tsan preset too. No timing: fixed operation counts.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "tests/btree/btree_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::btree {
namespace {

constexpr int kGroupKeys = 12;
std::string GroupKey(int writer, int j) { return fmt::format("g{}-{:02}", writer, j); }

TEST(BtreeConcurrencyTest, ReadersSeeWholeBatchesDuringWritesAndCheckpoints) {
  strata::testing::ScratchDir dir;
  Options o = testing::TinyOptions(512);
  o.block_cache_bytes = 8 * 1024;  // evictions under the readers' feet
  o.memtable_bytes = 16 * 1024;    // checkpoints all the time
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(o, dir.path(), &db).ok());
  constexpr int kWriters = 2;
  constexpr int kRounds = 400;
  std::atomic<int> writers_done{0};
  std::atomic<int> failures{0};
  auto fail = [&](const std::string& what) {
    if (failures.fetch_add(1) < 5) ADD_FAILURE() << what;
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(100 + w);
      for (int n = 1; n <= kRounds; ++n) {
        WriteBatch batch;
        const std::string value = fmt::format("{}:{}", n, std::string(rng() % 150, 'x'));
        for (int j = 0; j < kGroupKeys; ++j) {
          if (!batch.Put(GroupKey(w, j), value).ok()) fail("batch");
        }
        // Churn elsewhere so pages split, merge and get freed.
        if (!batch.Put(fmt::format("z{:05}", rng() % 2000), std::string(rng() % 200, 'c')).ok()) {
          fail("batch");
        }
        if (!batch.Delete(fmt::format("z{:05}", rng() % 2000)).ok()) fail("batch");
        const Status s = db->Write(WriteOptions{n % 10 == 0}, batch);
        if (!s.ok()) fail(s.ToString());
      }
      writers_done.fetch_add(1);
    });
  }
  threads.emplace_back([&] {
    while (writers_done.load() < kWriters) {
      const Status s = db->Flush();
      if (!s.ok()) fail(s.ToString());
    }
  });
  // Checks one writer's group in a view: all its keys carry one value.
  auto check_group = [&](const Snapshot* snap, int w) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::string first;
    for (int j = 0; j < kGroupKeys; ++j) {
      std::string v;
      const Status s = db->Get(ro, GroupKey(w, j), &v);
      if (s.IsNotFound() && j == 0) return;  // nothing written yet
      if (!s.ok()) return fail(s.ToString());
      if (j == 0) first = v;
      if (v != first) return fail(fmt::format("torn batch: {} vs {}", first, v));
    }
  };
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(200 + r);
      while (writers_done.load() < kWriters) {
        const int w = static_cast<int>(rng() % kWriters);
        if (r == 0) {
          auto snap = db->GetSnapshot();
          check_group(snap.get(), w);
          check_group(snap.get(), w);  // still the same state
        } else {
          ReadOptions ro;
          if (r == 2) ro.upper_bound = "h";
          auto it = testing::AsBtree(db.get())->NewBtreeIterator(ro);
          std::string prev, value;
          int count = 0;
          for (it->Seek(fmt::format("g{}-", w)); it->Valid(); it->Next()) {
            if (!prev.empty() && it->key() <= prev) fail("iterator out of order");
            prev = std::string(it->key());
            if (prev.rfind(fmt::format("g{}-", w), 0) != 0) break;
            if (count++ == 0) value = it->value();
            if (it->value() != value) fail("torn batch in iterator");
          }
          if (!it->status().ok()) fail(it->status().ToString());
          // And backwards over the whole key space.
          int back = 0;
          for (it->SeekToLast(); it->Valid() && back < 50; it->Prev(), ++back) {
          }
          if (!it->status().ok()) fail(it->status().ToString());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(db->Flush().ok());
  const Status c = testing::CheckDir(dir.path());
  EXPECT_TRUE(c.ok()) << c.ToString();
  for (int w = 0; w < kWriters; ++w) {
    std::string v;
    ASSERT_TRUE(db->Get(ReadOptions{}, GroupKey(w, 0), &v).ok());
    EXPECT_EQ(v.substr(0, v.find(':')), std::to_string(kRounds));
  }
}

}  // namespace
}  // namespace strata::btree
