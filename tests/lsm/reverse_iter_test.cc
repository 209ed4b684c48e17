// Backward iteration (SeekToLast/Prev) of the skiplist, the memtable, the
// level iterator and the DB iterator, which hides newer versions, older
// versions and tombstones while walking back and turning around.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lsm/arena.h"
#include "lsm/db_iter.h"
#include "lsm/memtable.h"
#include "lsm/merging_iterator.h"
#include "lsm/skiplist.h"
#include "lsm/version_set.h"
#include "tests/lsm_table/iterator_walk.h"
#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::Entries;
using testing::IteratorWalk;

struct U64Compare {
  int operator()(uint64_t a, uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};
using U64List = SkipList<uint64_t, U64Compare>;

TEST(SkipListReverse, EmptyAndSingle) {
  Arena arena;
  U64List list(U64Compare{}, &arena);
  U64List::Iterator it(&list);
  it.SeekToLast();
  EXPECT_FALSE(it.Valid());
  list.Insert(7);
  it.SeekToLast();
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(it.key(), 7u);
  it.Prev();
  EXPECT_FALSE(it.Valid());
}

TEST(SkipListReverse, PrevWalksBackwardAndTurns) {
  const uint64_t seed = strata::testing::TestSeed(61);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  Arena arena;
  U64List list(U64Compare{}, &arena);
  std::set<uint64_t> model;
  for (int i = 0; i < 3000; ++i) {
    const uint64_t k = rng() % 50000;
    if (model.insert(k).second) list.Insert(k);
  }
  U64List::Iterator it(&list);
  it.SeekToLast();
  for (auto m = model.rbegin(); m != model.rend(); ++m) {
    ASSERT_TRUE(it.Valid());
    ASSERT_EQ(it.key(), *m);
    it.Prev();
  }
  EXPECT_FALSE(it.Valid());
  // Seek, then step back and forth around the position.
  for (int i = 0; i < 1000; ++i) {
    const uint64_t target = rng() % 50001;
    it.Seek(target);
    auto m = model.lower_bound(target);
    if (m == model.end()) {
      ASSERT_FALSE(it.Valid());
      continue;
    }
    it.Prev();
    if (m == model.begin()) {
      ASSERT_FALSE(it.Valid());
      continue;
    }
    ASSERT_TRUE(it.Valid());
    ASSERT_EQ(it.key(), *std::prev(m));
    it.Next();
    ASSERT_TRUE(it.Valid());
    ASSERT_EQ(it.key(), *m);
  }
}

// Readers walk backward while the writer inserts ascending keys: every key a
// reader sees is smaller than the one before, and every key published before
// the walk began is seen.
TEST(SkipListReverse, ConcurrentBackwardReadersDuringWrites) {
  Arena arena;
  U64List list(U64Compare{}, &arena);
  constexpr uint64_t kKeys = 5000;
  std::atomic<uint64_t> published{0};  // keys 1..published are in the list
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> failures{0};
  auto reader = [&] {
    while (!stop.load(std::memory_order_acquire)) {
      const uint64_t known = published.load(std::memory_order_acquire);
      U64List::Iterator it(&list);
      uint64_t last = ~uint64_t{0}, seen = 0;
      for (it.SeekToLast(); it.Valid(); it.Prev()) {
        if (it.key() >= last) failures.fetch_add(1);
        last = it.key();
        ++seen;
      }
      if (seen < known) failures.fetch_add(1);
    }
  };
  std::thread r1(reader), r2(reader);
  for (uint64_t k = 1; k <= kKeys; ++k) {
    list.Insert(k);
    published.store(k, std::memory_order_release);
  }
  stop.store(true, std::memory_order_release);
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0u);
}

Entries ToEntries(const testing::Model& model) { return Entries(model.begin(), model.end()); }

TEST(MemTableReverse, BothDirectionsMatchModel) {
  const uint64_t seed = strata::testing::TestSeed(71);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const testing::Model model = testing::RandomEntries(seed, 400, 30);
  MemTable mem(0);
  // Insert in a shuffled order: the skiplist orders them.
  std::vector<std::pair<std::string, std::string>> shuffled(model.begin(), model.end());
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(seed));
  for (const auto& [k, v] : shuffled) {
    ParsedInternalKey p;
    ASSERT_TRUE(ParseInternalKey(k, &p));
    mem.Add(p.sequence, p.type, p.user_key, v);
  }
  auto it = mem.NewIterator();
  const Entries entries = ToEntries(model);
  IteratorWalk<> walk(it.get(), &entries);
  walk.FullScans();
  walk.TurnAtEveryEntry();
  walk.RandomWalk(seed, 3000, testing::SeekTargets(entries));
}

// A level of several tables with tiny blocks: Prev crosses block and file
// boundaries, SeekToLast opens the last file. The table cache holds two of
// the five tables, so the walk keeps closing and reopening them.
TEST(LevelIteratorReverse, BothDirectionsMatchModel) {
  const uint64_t seed = strata::testing::TestSeed(81);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  strata::testing::ScratchDir dir;
  TableOptions options;
  options.block_bytes = 128;
  options.block_restart_interval = 2;
  const testing::Model model = testing::RandomEntries(seed, 500, 24);
  const Entries entries = ToEntries(model);
  constexpr size_t kFiles = 5;
  auto table_cache =
      std::make_shared<TableCache>(io::DefaultFileSystem(), dir.path(), options, nullptr, 2);
  FileList files;
  for (size_t f = 0; f < kFiles; ++f) {
    const size_t begin = entries.size() * f / kFiles, end = entries.size() * (f + 1) / kFiles;
    const testing::Model part(model.find(entries[begin].first),
                              end == entries.size() ? model.end() : model.find(entries[end].first));
    const uint64_t number = 20 + f;
    const std::string path = dir.Join(fmt::format("{:06}.sst", number));
    ASSERT_TRUE(testing::BuildTable(path, options, part).ok());
    auto meta = std::make_shared<FileMetaData>();
    meta->number = number;
    meta->smallest = part.begin()->first;
    meta->largest = part.rbegin()->first;
    ASSERT_TRUE(io::DefaultFileSystem()->FileSize(path).ok());
    meta->file_bytes = *io::DefaultFileSystem()->FileSize(path);
    ASSERT_TRUE(OpenTableFile(table_cache, meta.get()).ok());
    files.push_back(std::move(meta));
  }
  auto it = NewLevelIterator(ReadOptions(), files);
  IteratorWalk<> walk(it.get(), &entries);
  walk.FullScans();
  walk.TurnAtEveryEntry();
  walk.RandomWalk(seed, 3000, testing::SeekTargets(entries));

  EXPECT_GT(table_cache->counters().evictions, 20u);
  EXPECT_LE(table_cache->counters().cached, 2u);

  auto empty = NewLevelIterator(ReadOptions(), {});
  empty->SeekToLast();
  EXPECT_FALSE(empty->Valid());
  EXPECT_TRUE(empty->status().ok());
}

// DB iterator over memtables holding many versions per key (values,
// versioned values, tombstones) spread over several children, read at
// several sequences and upper bounds.
class DBIterReverse : public ::testing::TestWithParam<uint64_t> {
 protected:
  struct Version {
    SequenceNumber seq;
    ValueType type;
    std::string value;  // user value (without the version prefix)
  };

  void Fill(uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (auto& m : mems_) m = std::make_shared<MemTable>(0);
    for (SequenceNumber seq = 1; seq <= kWrites; ++seq) {
      const std::string key = fmt::format("k{:02}", rng() % kKeys);
      const uint64_t dice = rng() % 100;
      const ValueType type = dice < 30   ? ValueType::kDeletion
                             : dice < 45 ? ValueType::kVersionedValue
                                         : ValueType::kValue;
      std::string value = type == ValueType::kDeletion ? "" : fmt::format("{}@{}", key, seq);
      std::string stored = value;
      if (type == ValueType::kVersionedValue) {
        stored.clear();
        PutFixed64(&stored, seq * 10);
        stored += value;
      }
      mems_[rng() % std::size(mems_)]->Add(seq, type, key, stored);
      versions_[key].push_back(Version{seq, type, std::move(value)});
    }
  }

  // The user's view at `seq` below `upper`.
  Entries Expected(SequenceNumber seq, const std::optional<std::string>& upper) const {
    Entries out;
    for (const auto& [key, list] : versions_) {
      if (upper && key >= *upper) break;
      const Version* newest = nullptr;
      for (const auto& v : list) {
        if (v.seq <= seq) newest = &v;
      }
      if (newest != nullptr && newest->type != ValueType::kDeletion) {
        out.push_back({key, newest->value});
      }
    }
    return out;
  }

  std::unique_ptr<Iterator> NewIter(SequenceNumber seq, std::optional<std::string> upper) {
    std::vector<std::unique_ptr<InternalIterator>> children;
    for (const auto& m : mems_) children.push_back(m->NewIterator());
    return NewDBIterator(nullptr, NewMergingIterator(std::move(children)), seq, std::move(upper));
  }

  static constexpr SequenceNumber kWrites = 800;
  static constexpr uint64_t kKeys = 60;
  std::shared_ptr<MemTable> mems_[3];
  std::map<std::string, std::vector<Version>> versions_;  // per key, ascending seq
};

TEST_P(DBIterReverse, MatchesModelAtSnapshotsAndBounds) {
  const uint64_t seed = strata::testing::TestSeed(GetParam());
  SCOPED_TRACE(fmt::format("seed={}", seed));
  Fill(seed);
  std::mt19937_64 rng(seed);
  const std::vector<std::optional<std::string>> uppers = {
      std::nullopt, std::string("k"), std::string("k30"), std::string("k305"), std::string("k59"),
      std::string("l")};
  for (SequenceNumber seq : {SequenceNumber{0}, SequenceNumber{1}, kWrites / 10, kWrites / 2,
                             kWrites - 1, kWrites, kMaxSequenceNumber}) {
    for (const auto& upper : uppers) {
      SCOPED_TRACE(fmt::format("seq={} upper={}", seq, upper.value_or("(none)")));
      const Entries expected = Expected(seq, upper);
      auto it = NewIter(seq, upper);
      IteratorWalk<Iterator> walk(it.get(), &expected, CompareBytewise);
      walk.FullScans();
      walk.TurnAtEveryEntry();
      std::vector<std::string> targets = {"", "k", "k0", "k99", "l"};
      for (uint64_t k = 0; k < kKeys; ++k) {
        targets.push_back(fmt::format("k{:02}", k));
        targets.push_back(fmt::format("k{:02}a", k));
      }
      walk.RandomWalk(rng(), 300, targets);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, DBIterReverse, ::testing::Values(1, 2, 3, 4));

TEST(DBIterReverseErrors, ShortVersionedValueIsCorruptionBackward) {
  auto mem = std::make_shared<MemTable>(0);
  mem->Add(1, ValueType::kValue, "a", "va");
  mem->Add(2, ValueType::kVersionedValue, "b", "short");  // no 8-byte version
  auto it = NewDBIterator(nullptr, mem->NewIterator(), 10, std::nullopt);
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsCorruption()) << it->status().ToString();
}

TEST(DBIterReverseErrors, MalformedInternalKeyIsCorruptionBackward) {
  auto mem = std::make_shared<MemTable>(0);
  mem->Add(1, ValueType::kValue, "a", "va");
  mem->Add(2, static_cast<ValueType>(9), "b", "vb");  // type byte no reader accepts
  auto it = NewDBIterator(nullptr, mem->NewIterator(), 10, std::nullopt);
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "a");
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsCorruption()) << it->status().ToString();
}

// Upper bound equal to an existing key, with versions of that key newer and
// older than the snapshot: SeekToLast stops before all of them.
TEST(DBIterReverseEdges, SeekToLastStopsBelowBound) {
  auto mem = std::make_shared<MemTable>(0);
  mem->Add(1, ValueType::kValue, "a", "a1");
  mem->Add(2, ValueType::kValue, "b", "b2");
  mem->Add(3, ValueType::kValue, "c", "c3");
  mem->Add(4, ValueType::kValue, "b", "b4");
  mem->Add(5, ValueType::kDeletion, "a", "");
  auto it = NewDBIterator(nullptr, mem->NewIterator(), 3, std::string("b"));
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "a");
  EXPECT_EQ(it->value(), "a1");
  it->Next();
  EXPECT_FALSE(it->Valid());
  it = NewDBIterator(nullptr, mem->NewIterator(), 5, std::string("c"));
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  EXPECT_EQ(it->value(), "b4");
  it->Prev();  // "a" is deleted at 5
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

}  // namespace
}  // namespace strata::lsm
