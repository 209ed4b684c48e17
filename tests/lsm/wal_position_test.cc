// The manifest's WAL position against the WAL that Open finds (issue 9,
// item 6): a lost WAL, or lost records the manifest still needs, is
// Corruption; a WAL that ends below the position after a power cut (its
// unsynced records were flushed already) continues its numbering there, so
// that writes after the reopen are never skipped by the next replay.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "io/fault_file_system.h"
#include "lsm/manifest.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"
#include "wal/format.h"
#include "wal/inspect.h"
#include "wal/log.h"

namespace strata::lsm {
namespace {

namespace fs = std::filesystem;
using testing::GetOrStatus;
using testing::TinyOptions;

std::string Key(int i) { return fmt::format("key{:06}", i); }
// Incompressible enough that the WAL's payload compression leaves it large.
std::string Value(int i) {
  std::string v = fmt::format("value{}-", i);
  std::mt19937_64 rng(i);
  while (v.size() < 150) v += fmt::format("{:016x}", rng());
  return v;
}

// WAL segment files of the database in `dir`, oldest first.
std::vector<std::string> WalSegments(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / std::string(kWalDirName))) {
    uint64_t seq = 0;
    if (wal::ParseFileName(e.path().filename().string(), &seq) == wal::FileKind::kSegment) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A record whose checksum is right but whose batch claims sequence numbers
// past 2^56 - 1 (or 0) is Corruption naming the record, not a wrapped or
// truncated sequence in the memtable.
TEST(LsmWalPosition, CraftedBatchSequenceOutOfRangeIsCorruption) {
  for (uint64_t sequence : {kMaxSequenceNumber, kMaxSequenceNumber - 1, uint64_t{0}}) {
    SCOPED_TRACE(sequence);
    strata::testing::ScratchDir dir;
    {
      std::unique_ptr<Engine> db;
      ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
      ASSERT_TRUE(db->Put(WriteOptions{true}, Key(1), Value(1)).ok());
    }
    {
      wal::LogOptions lo;
      std::unique_ptr<wal::Log> log;
      ASSERT_TRUE(wal::Log::Open(lo, dir.Join(std::string(kWalDirName)), &log).ok());
      WriteBatch batch;
      ASSERT_TRUE(batch.Put(Key(2), "x").ok());
      ASSERT_TRUE(batch.Put(Key(3), "y").ok());
      ASSERT_TRUE(batch.Put(Key(4), "z").ok());
      batch.set_sequence(sequence);
      ASSERT_TRUE(log->Append(batch.rep(), true).ok());
    }
    std::unique_ptr<Engine> db;
    const Status s = strata::Open(TinyOptions(), dir.path(), &db);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find("outside 1.."), std::string::npos) << s.ToString();
  }
}

TEST(LsmWalPosition, DeletedWalSegmentsAreCorruption) {
  strata::testing::ScratchDir dir;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{true}, Key(i), Value(i)).ok());
    }
    ASSERT_TRUE(db->Flush().ok());
  }
  const std::vector<std::string> segments = WalSegments(dir.path());
  ASSERT_FALSE(segments.empty());
  for (const std::string& path : segments) fs::remove(path);
  // Refused, and refused again: the failed open created nothing that would
  // let a second one pass.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Engine> db;
    Status s = strata::Open(TinyOptions(), dir.path(), &db);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("no WAL segment"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(std::string(kWalDirName)), std::string::npos) << s.ToString();
  }
}

TEST(LsmWalPosition, MissingOldestWalSegmentIsCorruption) {
  strata::testing::ScratchDir dir;
  Options options = TinyOptions();
  options.memtable_bytes = 64 << 20;  // no flush: everything is in the WAL
  options.wal_segment_bytes = wal::kSegmentBytesMin;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
    for (int i = 0; i < 10000; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{i % 500 == 499}, Key(i), Value(i)).ok());
    }
  }
  const std::vector<std::string> segments = WalSegments(dir.path());
  ASSERT_GE(segments.size(), 3u) << "no segment to lose";
  fs::remove(segments.front());
  std::unique_ptr<Engine> db;
  Status s = strata::Open(options, dir.path(), &db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("are missing"), std::string::npos) << s.ToString();
}

// A power cut after a flush loses the WAL records the flushed memtable had
// (they were never synced; the table and the manifest were): the WAL then
// ends below the manifest's position. The numbering continues there, so a
// synced write after the reopen survives the next reopen (it used to get an
// LSN below the position and replay skipped it).
TEST(LsmWalPosition, PowerCutAfterFlushContinuesWalNumbering) {
  strata::testing::ScratchDir dir;
  auto fault = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  Options options = TinyOptions();
  options.file_system = fault;
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{false}, Key(i), Value(i)).ok());
    }
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(fault->DropUnsyncedData().ok());
  }
  // The case under test: the newest flushed puts' WAL records are gone (a
  // segment growth syncs the records before it, so an older prefix may stay).
  wal::InspectResult inspected;
  ASSERT_TRUE(wal::InspectPath(fault->base().get(),
                               io::JoinPath(dir.path(), std::string(kWalDirName)), {}, &inspected)
                  .ok());
  ASSERT_LT(inspected.record_count, 100u) << "the WAL kept the flushed records: nothing to test";
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    std::unique_ptr<Engine> db;
    Status s = strata::Open(options, dir.path(), &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (int i = 0; i < 100; ++i) ASSERT_EQ(GetOrStatus(db.get(), Key(i)), Value(i));
    for (int r = 0; r < round; ++r) {
      ASSERT_EQ(GetOrStatus(db.get(), fmt::format("after{}", r)), Value(r));
    }
    ASSERT_TRUE(db->Put(WriteOptions{true}, fmt::format("after{}", round), Value(round)).ok());
    ASSERT_TRUE(fault->DropUnsyncedData().ok());
  }
}

}  // namespace
}  // namespace strata::lsm
