// Power loss and disk faults under wal::Log through io::FaultFileSystem:
// unsynced records vanish (only as a suffix), synced ones stay, the log opens
// in strict mode; a failed fdatasync or write fails the log for good; a torn
// write is a torn tail; a flipped bit read back is Corruption.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "io/fault_file_system.h"
#include "tests/testing/test_util.h"
#include "wal/format.h"
#include "wal/log.h"

namespace strata::wal {
namespace {

std::string Payload(uint64_t round, uint64_t i, std::mt19937_64& rng) {
  std::string p = fmt::format("r{}i{}|", round, i);
  p.append(rng() % 600, static_cast<char>('a' + i % 26));
  return p;
}

class WalPowerLoss : public ::testing::Test {
 protected:
  LogOptions Options(SegmentPreparation prep = SegmentPreparation::kRecycle) {
    LogOptions options;
    options.segment_bytes = kSegmentBytesMin;
    // Segment files grow every few records: power cuts land around growths.
    options.segment_chunk_bytes = 8 * kKiB;
    options.preparation = prep;
    options.file_system = fs_;
    return options;
  }
  std::string Seg(uint64_t seq) const { return io::JoinPath(dir_.path(), SegmentFileName(seq)); }

  strata::testing::ScratchDir dir_;
  std::shared_ptr<io::FaultFileSystem> fs_ =
      std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
};

// Rounds of appends (some synced), releases and power cuts on one log.
TEST_F(WalPowerLoss, SyncedRecordsSurviveUnsyncedVanishAsSuffix) {
  const uint64_t seed = strata::testing::TestSeed(99);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  std::map<uint64_t, std::string> expected;  // lsn -> payload, of records that may exist
  std::map<uint64_t, RecordLocation> where;  // lsn -> location, this round's appends
  uint64_t durable_lsn = 0;
  uint64_t released_before = 0;
  int torn_rounds = 0;
  for (uint64_t round = 0; round < 16; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    std::unique_ptr<Log> log;
    RecoveryReport report;
    Status s = Log::Open(Options(), dir_.path(), &log, &report);
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (report.torn_tail) ++torn_rounds;
    // Everything synced is there; unsynced records survive only as a prefix.
    uint64_t last = 0;
    s = log->Replay(released_before, [&](uint64_t lsn, std::string_view payload) -> Status {
      if (expected.count(lsn) == 0 || expected[lsn] != payload) {
        return Status::Corruption(fmt::format("lsn {}: unexpected payload", lsn));
      }
      last = lsn;
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_GE(last, durable_lsn) << report.ToString();
    if (last > 0) {
      ASSERT_EQ(log->next_lsn(), last + 1);
    }
    expected.erase(expected.upper_bound(last), expected.end());
    durable_lsn = last;
    // Append a seeded mix; sometimes release; then cut the power with the log open.
    for (uint64_t i = 0, n = 50 + rng() % 300; i < n; ++i) {
      const bool sync = rng() % 10 == 0;
      const std::string p = Payload(round, i, rng);
      auto loc = log->AppendWithLocation(p, sync);
      ASSERT_TRUE(loc.ok()) << loc.status().ToString();
      const uint64_t* lsn = &loc->lsn;
      expected[*lsn] = p;
      where[*lsn] = *loc;
      if (sync) durable_lsn = *lsn;
      if (rng() % 100 == 0) {
        ASSERT_TRUE(log->Sync().ok());
        durable_lsn = *lsn;
      }
      if (rng() % 200 == 0 && *lsn > 500) {
        ASSERT_TRUE(log->ReleaseBefore(*lsn - 400).ok());
        // Records below the oldest kept segment may be gone.
        released_before = std::max(released_before, log->ReleaseBoundary(0));
      }
    }
    // Segments are preallocated, so every record write overwrites synced
    // bytes, and the fault file system reverts all of them at the crash. On
    // odd rounds, emulate a disk that persisted part of the unsynced writes:
    // put back a sector-aligned prefix of the unsynced bytes of the newest
    // segment (a torn tail when the prefix ends inside a record).
    std::string unsynced;
    RecordLocation from;
    const RecordLocation newest = where.rbegin()->second;
    if (round % 2 == 1 && newest.lsn > durable_lsn) {
      from = newest;
      from.offset = kSegmentHeaderBytes;
      auto d = where.find(durable_lsn);
      if (d != where.end() && d->second.segment_seq == newest.segment_seq) {
        from.offset = d->second.offset + RecordBytes(d->second.payload_bytes);
      }
      const uint64_t end = newest.offset + RecordBytes(newest.payload_bytes);
      unsynced.resize(end - from.offset);
      std::unique_ptr<io::RandomAccessFile> f;
      ASSERT_TRUE(fs_->base()->NewRandomAccessFile(Seg(from.segment_seq), {}, &f).ok());
      size_t got = 0;
      ASSERT_TRUE(f->Read(from.offset, unsynced.size(), unsynced.data(), &got).ok());
      ASSERT_EQ(got, unsynced.size());
    }
    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    log.reset();  // its handles are dead; closing must not fail or hang
    if (!unsynced.empty()) {
      constexpr uint64_t kSectorBytes = 512;
      const uint64_t keep = (rng() % (unsynced.size() + 1)) / kSectorBytes * kSectorBytes;
      std::unique_ptr<io::WritableFile> f;
      ASSERT_TRUE(fs_->base()->ReopenWritableFile(Seg(from.segment_seq), {}, &f).ok());
      ASSERT_TRUE(f->WriteAt(from.offset, std::string_view(unsynced).substr(0, keep)).ok());
      ASSERT_TRUE(f->Sync().ok());
    }
    where.clear();
  }
  std::printf("%d of 16 reopens recovered a torn tail\n", torn_rounds);
}

TEST_F(WalPowerLoss, FailedSyncFailsTheLogForGood) {
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(Options(), dir_.path(), &log).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(fmt::format("ok{}", i), true).ok());
  io::ErrorInjection err;
  err.ops = io::Mask(io::FaultOp::kSync);
  err.path_contains = SegmentFileName(1);
  err.nth = 1;
  fs_->InjectError(err);
  auto failed = log->Append("doomed", true);
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.status().IsIOError()) << failed.status().ToString();
  fs_->ClearFaults();
  // Failed for good: later calls get the error, even without a new fault.
  EXPECT_FALSE(log->Append("later", false).ok());
  EXPECT_FALSE(log->Sync().ok());
  log.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  ASSERT_TRUE(Log::Open(Options(), dir_.path(), &log).ok());
  std::vector<std::string> got;
  ASSERT_TRUE(log->Replay(1, [&](uint64_t, std::string_view p) {
                   got.emplace_back(p);
                   return Status::Ok();
                 }).ok());
  ASSERT_GE(got.size(), 5u);
  EXPECT_EQ(got[4], "ok4");
}

TEST_F(WalPowerLoss, FailedWriteFailsTheLog) {
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(Options(), dir_.path(), &log).ok());
  ASSERT_TRUE(log->Append("first", true).ok());
  fs_->TearNextWrite(io::TearSpec{SegmentFileName(1), 10, /*silent=*/false});
  EXPECT_FALSE(log->Append(std::string(300, 'x'), true).ok());
  EXPECT_FALSE(log->Append("after", true).ok());
  log.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  RecoveryReport report;
  ASSERT_TRUE(Log::Open(Options(), dir_.path(), &log, &report).ok());
  EXPECT_EQ(report.record_count, 1u);
  EXPECT_EQ(log->next_lsn(), 2u);
}

TEST_F(WalPowerLoss, BitFlipOnReadIsCorruption) {
  std::vector<RecordLocation> where;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(Options(), dir_.path(), &log).ok());
    for (int i = 0; i < 10; ++i) {
      auto loc = log->AppendWithLocation(fmt::format("record {}", i), i == 9);
      ASSERT_TRUE(loc.ok());
      where.push_back(*loc);
    }
  }
  fs_->FlipBitOnRead(SegmentFileName(1), where[3].offset + kRecordHeaderBytes + 2, 5);
  std::unique_ptr<Log> log;
  Status s = Log::Open(Options(), dir_.path(), &log);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format("{} @ {}", SegmentFileName(1), where[3].offset)),
            std::string::npos)
      << s.ToString();
  fs_->ClearFaults();
  ASSERT_TRUE(Log::Open(Options(), dir_.path(), &log).ok()) << "the file itself is intact";
  std::string payload;
  ASSERT_TRUE(log->ReadRecord(where[3], &payload).ok());
  EXPECT_EQ(payload, "record 3");
}

TEST_F(WalPowerLoss, PreparationFaultFailsAppendsCleanly) {
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(Options(SegmentPreparation::kZeroFill), dir_.path(), &log).ok());
  io::ErrorInjection err;
  err.ops = io::Mask(io::FaultOp::kRename);
  err.path_contains = ".wal.tmp";
  err.fail_count = io::kFailForever;
  fs_->InjectError(err);
  // Filling segment 1 needs segment 2, whose preparation fails.
  Status last;
  for (int i = 0; i < 2000 && last.ok(); ++i) last = log->Append(std::string(100, 'p'), false).status();
  EXPECT_TRUE(last.IsIOError()) << last.ToString();
  fs_->ClearFaults();
  log.reset();
  RecoveryReport report;
  ASSERT_TRUE(Log::Open(Options(), dir_.path(), &log, &report).ok()) << report.ToString();
  EXPECT_GT(report.record_count, 100u);
}

}  // namespace
}  // namespace strata::wal
