// A lost tail of synced records (issue 9, item 8): what recovery detects
// (FORMAT.md, "What recovery can tell"), and that an ordinary power cut,
// which loses only an unsynced suffix, still opens cleanly in strict mode.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/checksum.h"
#include "core/coding.h"
#include "io/fault_file_system.h"
#include "tests/testing/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/format.h"
#include "wal/log.h"

namespace strata::wal {
namespace {

using testing::Payload;
using testing::ReplayAll;
using testing::SegmentPath;
using testing::SmallOptions;
using testing::WriteFileAt;

// `count` records of 300 bytes, all synced; returns where each went.
std::vector<RecordLocation> WriteSyncedLog(const std::string& dir, uint64_t count) {
  std::unique_ptr<Log> log;
  EXPECT_TRUE(Log::Open(SmallOptions(), dir, &log).ok());
  std::vector<RecordLocation> where;
  for (uint64_t i = 1; i <= count; ++i) {
    auto loc = log->AppendWithLocation(Payload(i, 300), /*sync=*/i % 50 == 0 || i == count);
    EXPECT_TRUE(loc.ok());
    where.push_back(*loc);
  }
  return where;
}

Status OpenLog(const std::string& dir, WalRecoveryMode mode, std::unique_ptr<Log>* log,
               RecoveryReport* report = nullptr) {
  LogOptions options = SmallOptions();
  options.recovery = mode;
  return Log::Open(options, dir, log, report);
}

// Truncating the newest segment file (at a record boundary, so the records
// left read cleanly, or inside a record) loses synced records; segment files
// are full size before they are named, so a short one is never a crash.
TEST(WalTailLoss, TruncatedSegmentFileIsCorruption) {
  for (bool at_boundary : {true, false}) {
    SCOPED_TRACE(at_boundary ? "cut at a record boundary" : "cut inside a record");
    strata::testing::ScratchDir dir;
    const auto where = WriteSyncedLog(dir.path(), 100);
    const RecordLocation last = where.back();
    const RecordLocation cut = where[where.size() - 5];
    ASSERT_EQ(cut.segment_seq, last.segment_seq);
    const std::string seg = SegmentPath(dir.path(), last.segment_seq);
    std::filesystem::resize_file(seg, at_boundary ? cut.offset : cut.offset + 40);
    std::unique_ptr<Log> log;
    Status s = OpenLog(dir.path(), WalRecoveryMode::kStrict, &log);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(SegmentFileName(last.segment_seq)), std::string::npos);
    EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.ToString();
    // Point-in-time keeps the records before the cut and repairs the file.
    RecoveryReport report;
    s = OpenLog(dir.path(), WalRecoveryMode::kPointInTime, &log, &report);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(log->next_lsn(), cut.lsn);
    ASSERT_TRUE(log->Append("after", true).ok());
    log.reset();
    ASSERT_TRUE(OpenLog(dir.path(), WalRecoveryMode::kStrict, &log).ok());
    EXPECT_EQ(log->next_lsn(), cut.lsn + 1);
  }
}

// Deleting the newest segment(s): the newest one left ends with a seal
// naming the segment the log had moved on to.
TEST(WalTailLoss, DeletedNewestSegmentsAreCorruption) {
  for (int deleted : {1, 2}) {
    SCOPED_TRACE(fmt::format("{} newest segments deleted", deleted));
    strata::testing::ScratchDir dir;
    const auto where = WriteSyncedLog(dir.path(), 1000);  // ~330 KiB: 6 segments
    const uint64_t newest = where.back().segment_seq;
    ASSERT_GT(newest, 3u);
    // Prepared-ahead segments after the newest one that holds records go too.
    for (uint64_t seq = newest + 1; std::filesystem::exists(SegmentPath(dir.path(), seq)); ++seq) {
      std::filesystem::remove(SegmentPath(dir.path(), seq));
    }
    for (int k = 0; k < deleted; ++k) std::filesystem::remove(SegmentPath(dir.path(), newest - k));
    const uint64_t kept = newest - deleted;
    uint64_t first_lost = 0;
    for (const RecordLocation& w : where) {
      if (w.segment_seq > kept && first_lost == 0) first_lost = w.lsn;
    }
    std::unique_ptr<Log> log;
    Status s = OpenLog(dir.path(), WalRecoveryMode::kStrict, &log);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(SegmentFileName(kept + 1) + " is missing"), std::string::npos)
        << s.ToString();
    EXPECT_NE(s.message().find(fmt::format("lsn {}", first_lost)), std::string::npos)
        << s.ToString();
    // Point-in-time opens with what is left and continues in a new segment.
    RecoveryReport report;
    s = OpenLog(dir.path(), WalRecoveryMode::kPointInTime, &log, &report);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(report.point_in_time_cut) << report.ToString();
    EXPECT_EQ(log->next_lsn(), first_lost);
    auto lsn = log->Append("after", true);
    ASSERT_TRUE(lsn.ok());
    EXPECT_EQ(*lsn, first_lost);
    log.reset();
    ASSERT_TRUE(OpenLog(dir.path(), WalRecoveryMode::kStrict, &log).ok());
    const auto records = ReplayAll(log.get());
    ASSERT_EQ(records.size(), first_lost);
    EXPECT_EQ(records.back().second, "after");
  }
}

// A torn tail repaired at Open in a segment that a prepared, empty segment
// follows: the writer goes on in the newer segment, so the torn one gets
// the seal a switch would have written, and losing the newer segment later
// is still detected.
TEST(WalTailLoss, TornSegmentFollowedByAnotherIsSealedAtOpen) {
  strata::testing::ScratchDir dir;
  const auto where = WriteSyncedLog(dir.path(), 50);
  ASSERT_EQ(where.back().segment_seq, 1u);
  // The prepared next segment (the preparer may or may not have made it:
  // create it if not).
  std::string segment2(kSegmentBytesMin, '\0');
  EncodeSegmentHeader(SegmentHeader{2, kSegmentBytesMin, kSegmentBytesMin}, segment2.data());
  if (!std::filesystem::exists(SegmentPath(dir.path(), 2))) {
    ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem().get(), SegmentPath(dir.path(), 2),
                                        segment2)
                    .ok());
  }
  WriteFileAt(SegmentPath(dir.path(), 2), 0, segment2);
  testing::FlipBit(SegmentPath(dir.path(), 1), where.back().offset + kRecordHeaderBytes + 1, 3);
  {
    std::unique_ptr<Log> log;
    RecoveryReport report;
    ASSERT_TRUE(OpenLog(dir.path(), WalRecoveryMode::kStrict, &log, &report).ok());
    EXPECT_TRUE(report.torn_tail) << report.ToString();
    auto loc = log->AppendWithLocation("after the torn tail", true);
    ASSERT_TRUE(loc.ok());
    EXPECT_EQ(loc->lsn, 50u);
    EXPECT_EQ(loc->segment_seq, 2u);
  }
  {
    std::unique_ptr<Log> log;
    RecoveryReport report;
    ASSERT_TRUE(OpenLog(dir.path(), WalRecoveryMode::kStrict, &log, &report).ok());
    EXPECT_FALSE(report.torn_tail);
    EXPECT_EQ(ReplayAll(log.get()).size(), 50u);
  }
  // Segment 2 and the one prepared after it are lost.
  for (uint64_t seq = 2; std::filesystem::exists(SegmentPath(dir.path(), seq)); ++seq) {
    std::filesystem::remove(SegmentPath(dir.path(), seq));
  }
  std::unique_ptr<Log> log;
  Status s = OpenLog(dir.path(), WalRecoveryMode::kStrict, &log);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("is sealed"), std::string::npos) << s.ToString();
}

// Zeroing the end of an older segment (its last records and its seal) while
// the next one holds records: the LSN chain into the next segment breaks.
TEST(WalTailLoss, ZeroedEndOfOlderSegmentIsCorruption) {
  strata::testing::ScratchDir dir;
  const auto where = WriteSyncedLog(dir.path(), 1000);
  ASSERT_GT(where.back().segment_seq, 2u);
  RecordLocation first_zeroed;
  for (size_t k = 0; k + 1 < where.size(); ++k) {
    if (where[k + 1].segment_seq == 2) {
      first_zeroed = where[k - 3];
      break;
    }
  }
  ASSERT_EQ(first_zeroed.segment_seq, 1u);
  WriteFileAt(SegmentPath(dir.path(), 1), first_zeroed.offset,
              std::string(kSegmentBytesMin - first_zeroed.offset, '\0'));
  std::unique_ptr<Log> log;
  Status s = OpenLog(dir.path(), WalRecoveryMode::kStrict, &log);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("records missing"), std::string::npos) << s.ToString();
}

// What cannot be told from a crash: zeroing the newest records of the newest
// segment (after its last seal) reads exactly like a power cut that lost an
// unsynced suffix. Documented in FORMAT.md; the LSM's manifest position
// (lsm/db_impl.cc) catches such a loss when it reaches below the last flush.
TEST(WalTailLoss, ZeroedNewestRecordsLookLikeACrash) {
  strata::testing::ScratchDir dir;
  const auto where = WriteSyncedLog(dir.path(), 100);
  const RecordLocation cut = where[where.size() - 5];
  WriteFileAt(SegmentPath(dir.path(), cut.segment_seq), cut.offset,
              std::string(kSegmentBytesMin - cut.offset, '\0'));
  std::unique_ptr<Log> log;
  ASSERT_TRUE(OpenLog(dir.path(), WalRecoveryMode::kStrict, &log).ok());
  EXPECT_EQ(log->next_lsn(), cut.lsn);
}

// An ordinary power cut loses only unsynced records and opens cleanly in
// strict mode, also when it strikes around segment switches (every round
// crosses several) and the preparation of the next segment.
TEST(WalTailLoss, PowerCutOpensCleanlyInStrictMode) {
  const uint64_t seed = strata::testing::TestSeed(5);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  auto fs = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  for (auto prep : {SegmentPreparation::kRecycle, SegmentPreparation::kZeroFill,
                    SegmentPreparation::kFallocate}) {
    LogOptions options = SmallOptions(prep);
    options.file_system = fs;
    const std::string path = dir.Join(fmt::format("log{}", static_cast<int>(prep)));
    uint64_t durable = 0;
    for (int round = 0; round < 12; ++round) {
      SCOPED_TRACE(fmt::format("prep {} round {}", static_cast<int>(prep), round));
      std::unique_ptr<Log> log;
      Status s = Log::Open(options, path, &log);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_GE(log->next_lsn(), durable + 1);
      const auto records = ReplayAll(log.get(), durable);
      if (durable > 0) {
        ASSERT_FALSE(records.empty());
        EXPECT_EQ(records.front().first, durable);
      }
      for (uint64_t i = 0, n = 50 + rng() % 250; i < n; ++i) {
        const bool sync = rng() % 16 == 0;
        auto lsn = log->Append(Payload(i, 100 + rng() % 900), sync);
        ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
        if (sync) durable = *lsn;
      }
      if (rng() % 3 == 0 && durable > 200) {
        ASSERT_TRUE(log->ReleaseBefore(durable - 200).ok());
      }
      ASSERT_TRUE(fs->DropUnsyncedData().ok());
      log.reset();
    }
  }
}

// Version 1 segments (written before seals existed) are still read.
TEST(WalTailLoss, Version1SegmentsStillOpen) {
  strata::testing::ScratchDir dir;
  const auto where = WriteSyncedLog(dir.path(), 50);
  const std::string seg = SegmentPath(dir.path(), 1);
  std::string header = testing::ReadFile(seg).substr(0, 40);
  EncodeFixed32(header.data() + 8, 1);
  EncodeFixed64(header.data() + 32, Checksum64(header.data(), 32));
  WriteFileAt(seg, 0, header);
  // Version 1 segment files were full size from birth.
  std::filesystem::resize_file(seg, kSegmentBytesMin);
  std::unique_ptr<Log> log;
  ASSERT_TRUE(OpenLog(dir.path(), WalRecoveryMode::kStrict, &log).ok());
  EXPECT_EQ(ReplayAll(log.get()).size(), 50u);
  // Version 3 is not known.
  EncodeFixed32(header.data() + 8, kFormatVersion + 1);
  EncodeFixed64(header.data() + 32, Checksum64(header.data(), 32));
  log.reset();
  WriteFileAt(seg, 0, header);
  Status s = OpenLog(dir.path(), WalRecoveryMode::kStrict, &log);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("unsupported version"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace strata::wal
