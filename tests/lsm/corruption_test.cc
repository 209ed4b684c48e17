// Flipped bits in SSTables, the manifest and the WAL: Open or the read
// returns Corruption naming the file, never a crash or a wrong value.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "lsm/manifest.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

namespace fs = std::filesystem;
using testing::TinyOptions;

std::string Key(int i) { return fmt::format("key{:06}", i); }
std::string Value(int i) { return fmt::format("value{}-{}", i, std::string(i % 50, 'v')); }

void FlipBit(const std::string& path, uint64_t offset, int bit) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ (1 << bit));
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

std::vector<std::string> FilesMatching(const std::string& dir, std::string_view needle) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(needle) != std::string::npos) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Builds a database with `count` keys, all in SSTables (or all in the WAL).
void BuildDb(const std::string& dir, int count, bool flush) {
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir, &db).ok());
  for (int i = 0; i < count; ++i) ASSERT_TRUE(db->Put(WriteOptions{true}, Key(i), Value(i)).ok());
  if (flush) {
    ASSERT_TRUE(db->CompactAll().ok());
  }
}

TEST(LsmCorruptionTest, FlippedSstBitIsCorruptionNeverWrongValue) {
  const uint64_t seed = strata::testing::TestSeed(7);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir pristine;
  BuildDb(pristine.path(), 600, true);
  const auto ssts = FilesMatching(pristine.path(), ".sst");
  ASSERT_FALSE(ssts.empty());
  int detected = 0;
  for (int trial = 0; trial < 12; ++trial) {
    strata::testing::ScratchDir dir;
    fs::copy(pristine.path(), dir.path(), fs::copy_options::recursive |
                                              fs::copy_options::overwrite_existing);
    const std::string victim =
        dir.Join(fs::path(ssts[rng() % ssts.size()]).filename().string());
    const uint64_t size = fs::file_size(victim);
    const uint64_t offset = rng() % size;
    SCOPED_TRACE(fmt::format("flip {} @ {}", victim, offset));
    FlipBit(victim, offset, static_cast<int>(rng() % 8));
    std::unique_ptr<Engine> db;
    Status s = strata::Open(TinyOptions(), dir.path(), &db);
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(s.message().find(".sst"), std::string::npos) << s.ToString();
      ++detected;
      continue;
    }
    bool saw_corruption = false;
    for (int i = 0; i < 600; ++i) {
      std::string value;
      Status g = db->Get(ReadOptions{}, Key(i), &value);
      if (g.ok()) {
        ASSERT_EQ(value, Value(i)) << "wrong value for " << Key(i);
      } else {
        ASSERT_TRUE(g.IsCorruption()) << Key(i) << ": " << g.ToString();
        saw_corruption = true;
      }
    }
    auto it = db->NewIterator(ReadOptions{});
    int i = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
      ASSERT_EQ(it->key(), Key(i));
      ASSERT_EQ(it->value(), Value(i));
    }
    if (!it->status().ok()) {
      EXPECT_TRUE(it->status().IsCorruption());
      saw_corruption = true;
    } else {
      EXPECT_EQ(i, 600);
    }
    detected += saw_corruption;
  }
  EXPECT_GT(detected, 0);
}

TEST(LsmCorruptionTest, FlippedManifestBitFailsOpenWithCorruption) {
  const uint64_t seed = strata::testing::TestSeed(8);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir pristine;
  BuildDb(pristine.path(), 400, true);
  const auto manifests = FilesMatching(pristine.path(), "MANIFEST-");
  ASSERT_EQ(manifests.size(), 1u);
  const uint64_t size = fs::file_size(manifests[0]);
  for (uint64_t offset = 0; offset < size; offset += 1 + rng() % 9) {
    strata::testing::ScratchDir dir;
    fs::copy(pristine.path(), dir.path(), fs::copy_options::recursive |
                                              fs::copy_options::overwrite_existing);
    FlipBit(dir.Join(fs::path(manifests[0]).filename().string()), offset,
            static_cast<int>(rng() % 8));
    std::unique_ptr<Engine> db;
    Status s = strata::Open(TinyOptions(), dir.path(), &db);
    ASSERT_TRUE(s.IsCorruption()) << "offset " << offset << ": " << s.ToString();
    EXPECT_NE(s.message().find("MANIFEST-"), std::string::npos) << s.ToString();
  }
}

TEST(LsmCorruptionTest, TornManifestTailIsIgnored) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 100, true);
  const auto manifests = FilesMatching(dir.path(), "MANIFEST-");
  ASSERT_EQ(manifests.size(), 1u);
  {
    // A record cut off by a crash before its sync: only part of the header.
    std::ofstream f(manifests[0], std::ios::app | std::ios::binary);
    f.write("\x10\x00\x00", 3);
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  EXPECT_EQ(testing::GetOrStatus(db.get(), Key(5)), Value(5));
}

TEST(LsmCorruptionTest, BadCurrentFileIsCorruption) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 10, false);
  { std::ofstream(dir.Join("CURRENT"), std::ios::trunc) << "garbage\n"; }
  std::unique_ptr<Engine> db;
  Status s = strata::Open(TinyOptions(), dir.path(), &db);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(LsmCorruptionTest, MissingSstIsReported) {
  strata::testing::ScratchDir dir;
  BuildDb(dir.path(), 300, true);
  const auto ssts = FilesMatching(dir.path(), ".sst");
  ASSERT_FALSE(ssts.empty());
  fs::remove(ssts[0]);
  std::unique_ptr<Engine> db;
  Status s = strata::Open(TinyOptions(), dir.path(), &db);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(".sst"), std::string::npos) << s.ToString();
}

TEST(LsmCorruptionTest, FlippedWalBitIsCorruption) {
  strata::testing::ScratchDir pristine;
  BuildDb(pristine.path(), 200, false);  // everything still only in the WAL
  const auto segments = FilesMatching(pristine.path() + "/wal", "");
  ASSERT_FALSE(segments.empty());
  // Records start after the 4 KiB segment header; flip inside early
  // records, which valid records follow.
  for (uint64_t offset : {4096 + 3, 4096 + 40, 4096 + 200, 4096 + 1000}) {
    strata::testing::ScratchDir dir;
    fs::copy(pristine.path(), dir.path(), fs::copy_options::recursive |
                                              fs::copy_options::overwrite_existing);
    const std::string victim =
        dir.path() + "/wal/" + fs::path(segments[0]).filename().string();
    FlipBit(victim, offset, 3);
    std::unique_ptr<Engine> db;
    Status s = strata::Open(TinyOptions(), dir.path(), &db);
    ASSERT_TRUE(s.IsCorruption()) << "offset " << offset << ": " << s.ToString();
  }
}

}  // namespace
}  // namespace strata::lsm
