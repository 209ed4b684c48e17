// The table cache (Options::max_open_files, issue 13): with room for a few
// tables among dozens, reads keep evicting and reopening tables. Checked
// against a std::map model (Gets, iterators, snapshots), against the open
// file descriptors of the process, under concurrent readers, and with a
// table damaged while it was closed.
#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "lsm/db_impl.h"
#include "lsm/table_cache.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using Model = std::map<std::string, std::string>;

// Descriptors of this process open on a table file in `dir`.
size_t OpenTableFds(const std::string& dir) {
  const std::string prefix = std::filesystem::canonical(dir).string() + "/";
  size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    char target[4096];
    const ssize_t len = readlink(entry.path().c_str(), target, sizeof(target) - 1);
    if (len <= 0) continue;
    const std::string t(target, static_cast<size_t>(len));
    if (t.rfind(prefix, 0) == 0 && t.size() > 4 && t.compare(t.size() - 4, 4, ".sst") == 0) ++n;
  }
  return n;
}

TableCache::Counters CacheCounters(Engine* db) {
  return static_cast<DBImpl*>(db)->versions_for_testing().table_cache().counters();
}

size_t TableCount(Engine* db) {
  const EngineStats st = db->Stats();
  size_t n = 0;
  for (int level = 0; level < kLevelCount; ++level) {
    n += testing::Property(st, fmt::format("lsm.level{}.files", level));
  }
  return n;
}

Options CacheOptions(int max_open_files) {
  Options o = testing::TinyOptions();
  o.compression = Compression::kNone;
  o.max_open_files = max_open_files;
  o.target_file_bytes = 16 * 1024;  // many small tables below L0
  return o;
}

std::string ValueFor(std::mt19937_64& rng, const std::string& key) {
  return key + std::string(20 + rng() % 200, static_cast<char>('a' + rng() % 26));
}

void ExpectScanMatches(Engine* db, const Model& model, const Snapshot* snap, std::mt19937_64& rng) {
  ReadOptions ro;
  ro.snapshot = snap;
  auto it = db->NewIterator(ro);
  auto m = model.begin();
  if (rng() % 2 == 0 && !model.empty()) {
    // A seek into the middle, then forward.
    auto pick = model.begin();
    std::advance(pick, static_cast<long>(rng() % model.size()));
    it->Seek(pick->first);
    m = pick;
  } else {
    it->SeekToFirst();
  }
  for (; it->Valid(); it->Next(), ++m) {
    ASSERT_NE(m, model.end()) << "extra key " << it->key();
    ASSERT_EQ(it->key(), m->first);
    ASSERT_EQ(it->value(), m->second);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(m, model.end());
  // And backward from the end.
  auto r = model.rbegin();
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) {
    ASSERT_NE(r, model.rend());
    ASSERT_EQ(it->key(), r->first);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(r, model.rend());
}

// Random writes, Gets, scans and snapshot reads against a model, with room
// for 3 open tables among dozens.
TEST(LsmTableCacheTest, TinyCacheMatchesModelWithSnapshots) {
  const uint64_t seed = strata::testing::TestSeed(1301);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  constexpr int kCapacity = 3;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(CacheOptions(kCapacity), dir.Join("db"), &db).ok());
  Model model;
  struct Snap {
    std::unique_ptr<Snapshot> snapshot;
    Model model;
  };
  std::vector<Snap> snaps;
  size_t max_tables = 0;
  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 300; ++i) {
      const std::string key = fmt::format("k{:05}", rng() % 3000);
      if (rng() % 8 == 0) {
        ASSERT_TRUE(db->Delete({}, key).ok());
        model.erase(key);
      } else {
        const std::string value = ValueFor(rng, key);
        ASSERT_TRUE(db->Put({}, key, value).ok());
        model[key] = value;
      }
    }
    if (round % 5 == 4) {
      snaps.push_back({db->GetSnapshot(), model});
      if (snaps.size() > 3) snaps.erase(snaps.begin());
    }
    if (round % 3 == 2) {
      ASSERT_TRUE(db->Flush().ok());
    }
    for (int i = 0; i < 200; ++i) {
      const std::string key = fmt::format("k{:05}", rng() % 3000);
      auto m = model.find(key);
      ASSERT_EQ(testing::GetOrStatus(db.get(), key), m == model.end() ? "NOT_FOUND" : m->second);
    }
    ASSERT_NO_FATAL_FAILURE(ExpectScanMatches(db.get(), model, nullptr, rng));
    for (const Snap& s : snaps) {
      for (int i = 0; i < 50; ++i) {
        const std::string key = fmt::format("k{:05}", rng() % 3000);
        auto m = s.model.find(key);
        ASSERT_EQ(testing::GetOrStatus(db.get(), key, s.snapshot.get()),
                  m == s.model.end() ? "NOT_FOUND" : m->second);
      }
      ASSERT_NO_FATAL_FAILURE(ExpectScanMatches(db.get(), s.model, s.snapshot.get(), rng));
    }
    // Quiescent (no flush or compaction running, no iterator alive): the
    // table files open are exactly the cached ones, at most the capacity.
    ASSERT_TRUE(static_cast<DBImpl*>(db.get())->WaitForCompactions().ok());
    const TableCache::Counters c = CacheCounters(db.get());
    EXPECT_LE(c.cached, static_cast<uint64_t>(kCapacity));
    EXPECT_EQ(c.alive, c.cached);
    EXPECT_LE(OpenTableFds(dir.Join("db")), static_cast<size_t>(kCapacity));
    max_tables = std::max(max_tables, TableCount(db.get()));
  }
  const TableCache::Counters c = CacheCounters(db.get());
  EXPECT_GE(max_tables, 20u);
  EXPECT_GT(c.evictions, 300u);
  EXPECT_GT(c.hits, 0u);
  snaps.clear();
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  // Reopened with a different bound, everything is still there.
  ASSERT_TRUE(Open(CacheOptions(1), dir.Join("db"), &db).ok());
  for (const auto& [k, v] : model) ASSERT_EQ(testing::GetOrStatus(db.get(), k), v);
  EXPECT_LE(OpenTableFds(dir.Join("db")), 1u);
  ASSERT_TRUE(db->Close().ok());
}

// Iterators pin their tables: many live iterators over a cache of 2 keep
// working while reads evict everything, and the open descriptors exceed the
// bound only by what the live iterators pin; once they are gone the count
// falls back to the bound.
TEST(LsmTableCacheTest, LiveIteratorsPinEvictedTables) {
  strata::testing::ScratchDir dir;
  Options o = CacheOptions(2);
  o.l0_compaction_trigger = 100;  // keep every flushed table in L0
  o.l0_slowdown_writes_trigger = 100;
  o.l0_stop_writes_trigger = 100;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, dir.Join("db"), &db).ok());
  constexpr int kTables = 12;
  Model model;
  for (int t = 0; t < kTables; ++t) {
    for (int i = 0; i < 50; ++i) {
      const std::string key = fmt::format("t{:02}-{:03}", t, i);
      model[key] = key + "-value";
      ASSERT_TRUE(db->Put({}, key, model[key]).ok());
    }
    ASSERT_TRUE(db->Flush().ok());
  }
  ASSERT_TRUE(static_cast<DBImpl*>(db.get())->WaitForCompactions().ok());
  ASSERT_EQ(TableCount(db.get()), static_cast<size_t>(kTables));
  std::vector<std::unique_ptr<Iterator>> iters;
  for (int i = 0; i < 4; ++i) {
    iters.push_back(db->NewIterator({}));
    iters.back()->Seek(fmt::format("t{:02}", i * 3));
  }
  // Every L0 table is pinned by each iterator (one iterator per L0 file).
  EXPECT_EQ(CacheCounters(db.get()).alive, static_cast<uint64_t>(kTables));
  EXPECT_LE(OpenTableFds(dir.Join("db")), static_cast<size_t>(kTables));
  for (int round = 0; round < 20; ++round) {
    for (const auto& [k, v] : model) ASSERT_EQ(testing::GetOrStatus(db.get(), k), v);
  }
  for (size_t i = 0; i < iters.size(); ++i) {
    auto m = model.lower_bound(fmt::format("t{:02}", i * 3));
    for (Iterator* it = iters[i].get(); it->Valid(); it->Next(), ++m) {
      ASSERT_NE(m, model.end());
      ASSERT_EQ(it->key(), m->first);
      ASSERT_EQ(it->value(), m->second);
    }
    ASSERT_TRUE(iters[i]->status().ok());
    ASSERT_EQ(m, model.end());
  }
  iters.clear();
  const TableCache::Counters c = CacheCounters(db.get());
  EXPECT_EQ(c.alive, c.cached);
  EXPECT_LE(c.cached, 2u);
  EXPECT_LE(OpenTableFds(dir.Join("db")), 2u);
  EXPECT_GT(c.evictions, 20u * kTables);
  ASSERT_TRUE(db->Close().ok());
}

// Readers on several threads while a writer keeps flushing and compacting:
// every value is a function of its key, so each read can be checked. Built
// under the tsan preset too.
TEST(LsmTableCacheTest, ConcurrentReadersWithTinyCache) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(CacheOptions(2), dir.Join("db"), &db).ok());
  constexpr int kKeys = 2000;
  auto key_of = [](int i) { return fmt::format("c{:05}", i); };
  auto value_of = [](int i) { return fmt::format("value-{:05}-{}", i, std::string(i % 97, 'x')); };
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(db->Put({}, key_of(i), value_of(i)).ok());
  ASSERT_TRUE(db->Flush().ok());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, errors{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(r + 1);
      while (!stop.load()) {
        if (rng() % 16 == 0) {
          auto it = db->NewIterator({});
          int i = static_cast<int>(rng() % kKeys);
          it->Seek(key_of(i));
          for (int n = 0; n < 50 && it->Valid() && i < kKeys; ++n, ++i, it->Next()) {
            if (it->key() != key_of(i) || it->value() != value_of(i)) ++errors;
          }
          if (!it->status().ok()) ++errors;
        } else {
          const int i = static_cast<int>(rng() % kKeys);
          std::string value;
          if (!db->Get({}, key_of(i), &value).ok() || value != value_of(i)) ++errors;
        }
        ++reads;
      }
    });
  }
  // Rewrites (same values) to keep flushes and compactions going.
  std::mt19937_64 rng(7);
  for (int round = 0; round < 8; ++round) {
    for (int n = 0; n < 600; ++n) {
      const int i = static_cast<int>(rng() % kKeys);
      ASSERT_TRUE(db->Put({}, key_of(i), value_of(i)).ok());
    }
    ASSERT_TRUE(db->Flush().ok());
  }
  ASSERT_TRUE(static_cast<DBImpl*>(db.get())->WaitForCompactions().ok());
  while (reads.load() < 3000) std::this_thread::yield();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0u);
  const TableCache::Counters c = CacheCounters(db.get());
  EXPECT_GT(c.evictions, 50u);
  EXPECT_EQ(c.alive, c.cached);
  EXPECT_LE(c.cached, 2u);
  ASSERT_TRUE(db->Close().ok());
}

// A table damaged while it was out of the cache: the reopen reports
// Corruption (Get and iterator), the other tables keep serving reads.
TEST(LsmTableCacheTest, DamagedTableReopenedAfterEvictionIsCorruption) {
  strata::testing::ScratchDir dir;
  Options o = CacheOptions(2);
  o.l0_compaction_trigger = 100;
  o.l0_slowdown_writes_trigger = 100;
  o.l0_stop_writes_trigger = 100;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, dir.Join("db"), &db).ok());
  constexpr int kTables = 6;
  for (int t = 0; t < kTables; ++t) {
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(db->Put({}, fmt::format("t{}-{:03}", t, i), "v").ok());
    }
    ASSERT_TRUE(db->Flush().ok());
  }
  // The oldest table holds t0-*; read the newest ones so that it is evicted.
  std::vector<std::string> tables;
  for (const auto& e : std::filesystem::directory_iterator(dir.Join("db"))) {
    if (e.path().extension() == ".sst") tables.push_back(e.path().string());
  }
  std::sort(tables.begin(), tables.end());
  ASSERT_EQ(tables.size(), static_cast<size_t>(kTables));
  for (int t = kTables - 2; t < kTables; ++t) {
    ASSERT_EQ(testing::GetOrStatus(db.get(), fmt::format("t{}-000", t)), "v");
  }
  // Flip bytes of the footer (the file's last bytes), keeping its size.
  const uint64_t size = std::filesystem::file_size(tables.front());
  const int fd = ::open(tables.front().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const char junk[16] = {'\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a',
                         '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a', '\x5a'};
  ASSERT_EQ(::pwrite(fd, junk, sizeof(junk), static_cast<off_t>(size - sizeof(junk))),
            static_cast<ssize_t>(sizeof(junk)));
  ::close(fd);
  for (int round = 0; round < 50; ++round) {
    std::string value;
    const Status s = db->Get({}, fmt::format("t0-{:03}", round % 40), &value);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find(std::filesystem::path(tables.front()).filename().string()),
              std::string::npos)
        << s.ToString();
    auto it = db->NewIterator({});
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
    }
    EXPECT_TRUE(it->status().IsCorruption()) << it->status().ToString();
    // Tables other than the damaged one still answer.
    ASSERT_EQ(testing::GetOrStatus(db.get(), fmt::format("t{}-{:03}", 1 + round % 5, round % 40)),
              "v");
  }
  ASSERT_TRUE(db->Close().ok());
}

TEST(LsmTableCacheTest, ResolveMaxOpenFiles) {
  EXPECT_EQ(ResolveMaxOpenFiles(7), 7u);
  EXPECT_EQ(ResolveMaxOpenFiles(-1), 0u);
  const size_t automatic = ResolveMaxOpenFiles(0);
  EXPECT_GE(automatic, 64u);
  EXPECT_LE(automatic, 65536u);
}

}  // namespace
}  // namespace strata::lsm
