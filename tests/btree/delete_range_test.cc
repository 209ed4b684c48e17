// DeleteRange in the B+ tree: page-level removal keeps the tree's shape (the
// structural checker: every non-root page at least a quarter full, keys in
// order, entry count), frees the covered leaves, and leaves snapshots and
// open iterators on the old pages.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "strata/write_batch.h"
#include "tests/btree/btree_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::btree {
namespace {

std::string Key(int i) { return fmt::format("key{:06}", i); }

Status DeleteRange(Engine* db, std::string_view begin, std::string_view end) {
  WriteBatch batch;
  STRATA_RETURN_IF_ERROR(batch.DeleteRange(begin, end));
  return db->Write(WriteOptions(), batch);
}

std::unique_ptr<Engine> OpenDb(const std::string& dir) {
  std::unique_ptr<Engine> db;
  Status s = strata::Open(testing::TinyOptions(), dir, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return db;
}

TEST(BtreeDeleteRangeTest, DropsLeavesKeepsSnapshotsAndShape) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db = OpenDb(dir.path());
  constexpr int kKeys = 6000;
  std::map<std::string, std::string> model;
  for (int i = 0; i < kKeys; ++i) {
    const std::string v = i % 97 == 0 ? std::string(3000, 'o') : fmt::format("value{}", i);
    ASSERT_TRUE(db->Put(WriteOptions(), Key(i), v).ok());  // some values in overflow pages
    model[Key(i)] = v;
  }
  ASSERT_TRUE(db->Flush().ok());
  CheckReport full;
  ASSERT_TRUE(testing::CheckDir(dir.path(), &full).ok());
  const uint64_t leaves_full = full.pages_by_type[static_cast<size_t>(PageType::kLeaf)];

  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  std::unique_ptr<Iterator> old_it = db->NewIterator(ReadOptions());
  old_it->Seek(Key(kKeys / 2));
  ASSERT_TRUE(old_it->Valid());

  ASSERT_TRUE(DeleteRange(db.get(), Key(kKeys / 8), Key(7 * kKeys / 8)).ok());
  const auto before = model;
  model.erase(model.lower_bound(Key(kKeys / 8)), model.lower_bound(Key(7 * kKeys / 8)));
  EXPECT_EQ(testing::Dump(db.get()), model);
  EXPECT_EQ(testing::Dump(db.get(), snap.get()), before);
  // The iterator opened before the delete walks the old pages.
  for (int i = kKeys / 2; i < kKeys / 2 + 100; ++i, old_it->Next()) {
    ASSERT_TRUE(old_it->Valid()) << i << " " << old_it->status().ToString();
    EXPECT_EQ(old_it->key(), Key(i));
  }
  old_it.reset();
  snap.reset();
  ASSERT_TRUE(db->Flush().ok());
  CheckReport after;
  const Status c = testing::CheckDir(dir.path(), &after);
  ASSERT_TRUE(c.ok()) << c.ToString();
  EXPECT_EQ(after.entries, model.size());
  const uint64_t leaves_after = after.pages_by_type[static_cast<size_t>(PageType::kLeaf)];
  EXPECT_LT(leaves_after, leaves_full / 3) << leaves_full;
  EXPECT_GT(after.free_pages, full.free_pages + leaves_full / 2);

  // Deleting everything empties the tree; it takes new keys afterwards.
  ASSERT_TRUE(DeleteRange(db.get(), "", "\xff").ok());
  EXPECT_TRUE(testing::Dump(db.get()).empty());
  ASSERT_TRUE(db->Put(WriteOptions(), "again", "1").ok());
  ASSERT_TRUE(db->Flush().ok());
  CheckReport empty;
  ASSERT_TRUE(testing::CheckDir(dir.path(), &empty).ok());
  EXPECT_EQ(empty.entries, 1u);
}

// Random ranges, puts and reopens: after every round the checker accepts
// the file and the contents equal the model.
TEST(BtreeDeleteRangeTest, RandomRangesKeepTheTreeValid) {
  const uint64_t seed = strata::testing::TestSeed(11);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db = OpenDb(dir.path());
  std::map<std::string, std::string> model;
  for (int round = 0; round < 120 && !HasFailure(); ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    WriteBatch batch;
    for (int i = 0; i < 150; ++i) {
      const std::string k = Key(static_cast<int>(rng() % 3000));
      const std::string v(rng() % 50 == 0 ? 1500 : 1 + rng() % 60, 'a' + rng() % 26);
      ASSERT_TRUE(batch.Put(k, v).ok());
      model[k] = v;
    }
    const int a = static_cast<int>(rng() % 3000);
    const int b = a + 1 + static_cast<int>(rng() % (rng() % 4 == 0 ? 2000 : 100));
    std::string begin = Key(a), end = Key(b);
    if (rng() % 3 == 0) begin += "m";
    ASSERT_TRUE(batch.DeleteRange(begin, end).ok());
    model.erase(model.lower_bound(begin), model.lower_bound(end));
    ASSERT_TRUE(db->Write(WriteOptions(), batch).ok());
    ASSERT_TRUE(db->Flush().ok());
    CheckReport report;
    const Status c = testing::CheckDir(dir.path(), &report);
    ASSERT_TRUE(c.ok()) << c.ToString();
    ASSERT_EQ(report.entries, model.size());
    if (round % 10 == 0) {
      ASSERT_EQ(testing::Dump(db.get()), model);
    }
    if (round % 25 == 24) {
      db.reset();
      db = OpenDb(dir.path());
    }
  }
  EXPECT_EQ(testing::Dump(db.get()), model);
}

}  // namespace
}  // namespace strata::btree
