// Readers, iterators and PutIfNewer running while writers, flushes and
// compactions go on. Built and run under the tsan preset too.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

constexpr int kKeys = 400;

std::string Key(int i) { return fmt::format("key{:05}", i); }
// Each value names its key and round, so a reader can tell a torn or
// misplaced value from a valid older one.
std::string Value(int key, uint64_t round) {
  return fmt::format("{}:{}:{}", key, round, std::string(20 + key % 40, 'z'));
}

class LsmConcurrencyTest : public ::testing::TestWithParam<CompactionStyle> {};

TEST_P(LsmConcurrencyTest, ReadersAndIteratorsDuringWritesAndCompaction) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(testing::TinyOptions(GetParam()), dir.path(), &db).ok());
  // Every key exists from the start; writers only overwrite, as whole rounds
  // (one batch per round), so a snapshot sees one round for all keys.
  constexpr int kRounds = 24;
  auto write_round = [&](uint64_t round) {
    WriteBatch batch;
    for (int k = 0; k < kKeys; ++k) ASSERT_TRUE(batch.Put(Key(k), Value(k, round)).ok());
    ASSERT_TRUE(db->Write(WriteOptions{}, batch).ok());
  };
  write_round(0);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> errors{0};
  std::thread writer([&] {
    for (uint64_t round = 1; round <= kRounds; ++round) {
      write_round(round);
      if (round % 4 == 0 && !db->CompactAll().ok()) errors.fetch_add(1);
    }
    done.store(true);
  });
  auto point_reader = [&] {
    int i = 0;
    while (!done.load()) {
      const int k = (i++ * 37) % kKeys;
      std::string value;
      Status s = db->Get(ReadOptions{}, Key(k), &value);
      if (!s.ok() || value.rfind(fmt::format("{}:", k), 0) != 0) errors.fetch_add(1);
    }
  };
  auto snapshot_scanner = [&] {
    while (!done.load()) {
      auto snap = db->GetSnapshot();
      ReadOptions ro;
      ro.snapshot = snap.get();
      auto it = db->NewIterator(ro);
      int k = 0;
      std::string round;
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++k) {
        const std::string v(it->value());
        const std::string prefix = fmt::format("{}:", k);
        if (it->key() != Key(k) || v.rfind(prefix, 0) != 0) {
          errors.fetch_add(1);
          break;
        }
        const std::string r = v.substr(prefix.size(), v.find(':', prefix.size()) - prefix.size());
        if (k == 0) round = r;
        if (r != round) errors.fetch_add(1);  // a snapshot sees one whole round
      }
      if (!it->status().ok() || k != kKeys) errors.fetch_add(1);
    }
  };
  std::thread r1(point_reader), r2(snapshot_scanner);
  writer.join();
  r1.join();
  r2.join();
  EXPECT_EQ(errors.load(), 0u);
  for (int k = 0; k < kKeys; ++k) {
    ASSERT_EQ(testing::GetOrStatus(db.get(), Key(k)), Value(k, kRounds));
  }
}

TEST_P(LsmConcurrencyTest, PutIfNewerIsAtomicPerKey) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(testing::TinyOptions(GetParam()), dir.path(), &db).ok());
  constexpr int kThreads = 4;
  constexpr int kRegisterKeys = 8;
  constexpr uint64_t kVersions = 150;
  std::atomic<uint64_t> applied_total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread offers every version of every key, in its own order.
      for (uint64_t i = 0; i < kVersions; ++i) {
        const uint64_t version = (i * (t + 1) * 7919) % kVersions + 1;
        for (int k = 0; k < kRegisterKeys; ++k) {
          bool applied = false;
          const std::string value = fmt::format("t{}v{}", t, version);
          if (!db->PutIfNewer(WriteOptions{}, fmt::format("reg{}", k), version, value, &applied)
                   .ok()) {
            return;
          }
          if (applied) applied_total.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < kRegisterKeys; ++k) {
    std::string value;
    uint64_t version = 0;
    ASSERT_TRUE(db->GetVersioned(ReadOptions{}, fmt::format("reg{}", k), &value, &version).ok());
    EXPECT_EQ(version, kVersions);
    EXPECT_EQ(value.substr(value.find('v')), fmt::format("v{}", kVersions));
  }
  // Each applied write raised the stored version, so at most kVersions per key.
  EXPECT_LE(applied_total.load(), kVersions * kRegisterKeys);
  EXPECT_GE(applied_total.load(), static_cast<uint64_t>(kRegisterKeys));
}

INSTANTIATE_TEST_SUITE_P(Styles, LsmConcurrencyTest, testing::kBothStyles, testing::StyleName);

}  // namespace
}  // namespace strata::lsm
