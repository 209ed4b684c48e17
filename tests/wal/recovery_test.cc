// Recovery: torn tails (truncated, zeroed, stale bytes of a recycled segment)
// are reported and truncated; bit flips followed by valid records are
// Corruption naming segment and offset (strict) or a point-in-time cut.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/coding.h"
#include "tests/testing/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/format.h"
#include "wal/log.h"

namespace strata::wal {
namespace {

using testing::FlipBit;
using testing::Payload;
using testing::ReplayAll;
using testing::SegmentPath;
using testing::SmallOptions;
using testing::WriteFileAt;

// Writes `count` 100-byte records (synced) into a fresh log; returns the
// location of each.
std::vector<RecordLocation> WriteLog(const std::string& dir, uint64_t count,
                                     LogOptions options = SmallOptions()) {
  std::unique_ptr<Log> log;
  EXPECT_TRUE(Log::Open(options, dir, &log).ok());
  std::vector<RecordLocation> where;
  for (uint64_t i = 1; i <= count; ++i) {
    auto loc = log->AppendWithLocation(Payload(i), /*sync=*/i == count);
    EXPECT_TRUE(loc.ok());
    where.push_back(*loc);
  }
  return where;
}

Status Reopen(const std::string& dir, RecoveryReport* report,
              WalRecoveryMode mode = WalRecoveryMode::kStrict,
              std::unique_ptr<Log>* out = nullptr) {
  LogOptions options = SmallOptions();
  options.recovery = mode;
  std::unique_ptr<Log> log;
  Status s = Log::Open(options, dir, &log, report);
  if (out) *out = std::move(log);
  return s;
}

void ExpectRecords(Log* log, uint64_t count) {
  auto records = ReplayAll(log);
  ASSERT_EQ(records.size(), count);
  for (uint64_t i = 1; i <= count; ++i) ASSERT_EQ(records[i - 1].second, Payload(i));
}

// The last record, cut in various ways, is a torn tail: reported once,
// zeroed, and the log continues after the previous record.
TEST(WalRecovery, TornTailVariants) {
  enum Cut { kZeroPayload, kHeaderOnly };
  for (Cut cut : {kZeroPayload, kHeaderOnly}) {
    SCOPED_TRACE(static_cast<int>(cut));
    strata::testing::ScratchDir dir;
    auto where = WriteLog(dir.path(), 50);
    const RecordLocation last = where.back();
    const std::string seg = SegmentPath(dir.path(), last.segment_seq);
    const uint64_t payload_at = last.offset + kRecordHeaderBytes;
    switch (cut) {
      case kZeroPayload: WriteFileAt(seg, payload_at + 50, std::string(50, '\0')); break;
      case kHeaderOnly: WriteFileAt(seg, payload_at, std::string(100, '\0')); break;
    }
    RecoveryReport report;
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Reopen(dir.path(), &report, WalRecoveryMode::kStrict, &log).ok());
    EXPECT_TRUE(report.torn_tail) << report.ToString();
    EXPECT_EQ(report.torn_segment, last.segment_seq);
    EXPECT_EQ(report.torn_offset, last.offset);
    EXPECT_GT(report.dropped_bytes, 0u);
    EXPECT_EQ(report.record_count, 49u);
    EXPECT_NE(report.ToString().find("torn tail"), std::string::npos);
    ExpectRecords(log.get(), 49);
    EXPECT_EQ(log->next_lsn(), 50u);
    ASSERT_TRUE(log->Append(Payload(50), true).ok());
    log.reset();
    ASSERT_TRUE(Reopen(dir.path(), &report, WalRecoveryMode::kStrict, &log).ok());
    EXPECT_FALSE(report.torn_tail) << "reported twice: " << report.ToString();
    ExpectRecords(log.get(), 50);
  }
}

// A recycled segment still holds the records of its previous life: they
// carry the old seq and must never replay as new ones.
void StaleRecordsOfRecycledSegment(SegmentPreparation prep) {
  strata::testing::ScratchDir dir;
  LogOptions options = SmallOptions(prep);
  uint64_t total = 0;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
    for (uint64_t i = 1; i <= 3000; ++i) ASSERT_TRUE(log->Append(Payload(i), false).ok());
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->ReleaseBefore(2000).ok());
    // A few records into a recycled segment, far fewer than it held before.
    while (log->stats().segments_recycled == 0 || total < 600) {
      ASSERT_TRUE(log->Append(Payload(3001 + total), total % 64 == 0).ok());
      ++total;
    }
    ASSERT_TRUE(log->Sync().ok());
  }
  RecoveryReport report;
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Reopen(dir.path(), &report, WalRecoveryMode::kStrict, &log).ok());
  EXPECT_FALSE(report.torn_tail) << report.ToString();
  auto records = ReplayAll(log.get(), 2000);
  ASSERT_EQ(records.size(), 1001 + total);
  EXPECT_EQ(records.back().first, 3000 + total);

  // Now tear the newest record in the recycled segment: its header is new,
  // the payload behind it stale bytes from the old life.
  const uint64_t lsn = records.back().first;
  RecordLocation last;
  ASSERT_TRUE(log->ReplayWithLocation(lsn, [&](const RecordLocation& w, std::string_view) {
                   last = w;
                   return Status::Ok();
                 }).ok());
  log.reset();
  FlipBit(SegmentPath(dir.path(), last.segment_seq), last.offset + kRecordHeaderBytes + 3, 2);
  ASSERT_TRUE(Reopen(dir.path(), &report, WalRecoveryMode::kStrict, &log).ok());
  EXPECT_TRUE(report.torn_tail);
  EXPECT_EQ(report.torn_offset, last.offset);
  EXPECT_EQ(log->next_lsn(), lsn);
}

TEST(WalRecovery, StaleRecordsOfRecycledSegmentAreNotReplayed) {
  for (auto prep : {SegmentPreparation::kRecycle, SegmentPreparation::kRecycleElseFallocate}) {
    SCOPED_TRACE(static_cast<int>(prep));
    StaleRecordsOfRecycledSegment(prep);
  }
}

// A flipped bit in a header or payload followed by valid records.
TEST(WalRecovery, BitFlipIsCorruptionWithSegmentAndOffset) {
  const uint64_t seed = strata::testing::TestSeed(7);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 12; ++round) {
    strata::testing::ScratchDir dir;
    auto where = WriteLog(dir.path(), 60);
    const RecordLocation victim = where[rng() % 55];
    const uint64_t byte = victim.offset + rng() % (kRecordHeaderBytes + victim.payload_bytes);
    SCOPED_TRACE(fmt::format("lsn={} byte={}", victim.lsn, byte));
    FlipBit(SegmentPath(dir.path(), victim.segment_seq), byte, static_cast<int>(rng() % 8));
    RecoveryReport report;
    Status s = Reopen(dir.path(), &report);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(fmt::format("{} @ {}", SegmentFileName(victim.segment_seq),
                                           victim.offset)),
              std::string::npos)
        << s.ToString();
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Reopen(dir.path(), &report, WalRecoveryMode::kPointInTime, &log).ok());
    EXPECT_TRUE(report.point_in_time_cut);
    EXPECT_EQ(report.record_count, victim.lsn - 1);
    ExpectRecords(log.get(), victim.lsn - 1);
    EXPECT_EQ(log->next_lsn(), victim.lsn);
    ASSERT_TRUE(log->Append("new", true).ok());
    log.reset();
    ASSERT_TRUE(Reopen(dir.path(), &report).ok()) << "cut must leave a clean log";
    EXPECT_EQ(report.record_count, victim.lsn);
  }
}

// Corruption in an older segment while newer segments hold records.
TEST(WalRecovery, CorruptionInOlderSegment) {
  strata::testing::ScratchDir dir;
  auto where = WriteLog(dir.path(), 1200);
  ASSERT_GT(where.back().segment_seq, 2u);
  const RecordLocation victim = where[100];
  ASSERT_EQ(victim.segment_seq, 1u);
  // Zero the whole record: reads like a clean end, yet later records exist.
  WriteFileAt(SegmentPath(dir.path(), 1), victim.offset,
              std::string(RecordBytes(victim.payload_bytes), '\0'));
  RecoveryReport report;
  Status s = Reopen(dir.path(), &report);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format("{} @ {}", SegmentFileName(1), victim.offset)),
            std::string::npos)
      << s.ToString();
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Reopen(dir.path(), &report, WalRecoveryMode::kPointInTime, &log).ok());
  EXPECT_EQ(log->segment_count(), 1u);
  ExpectRecords(log.get(), 100);
}

TEST(WalRecovery, BadSegmentHeaders) {
  {  // A newest segment without a valid header: our protocol never leaves one
     // (headers are durable before the rename), so strict mode refuses it and
     // point-in-time mode removes it.
    strata::testing::ScratchDir dir;
    WriteLog(dir.path(), 10);
    const uint64_t count = 10;
    std::unique_ptr<Log> log;
    RecoveryReport report;
    // Segment 2 with its header wiped (all zeros).
    {
      std::unique_ptr<io::WritableFile> f;
      ASSERT_TRUE(io::DefaultFileSystem()
                      ->NewWritableFile(SegmentPath(dir.path(), 2), io::FileOptions{}, &f)
                      .ok());
      ASSERT_TRUE(f->Append(std::string(kSegmentBytesMin, '\0')).ok());
      ASSERT_TRUE(f->Close().ok());
    }
    EXPECT_TRUE(Reopen(dir.path(), &report).IsCorruption());
    ASSERT_TRUE(Reopen(dir.path(), &report, WalRecoveryMode::kPointInTime, &log).ok());
    EXPECT_EQ(report.segments_removed, 1u);
    ExpectRecords(log.get(), count);
  }
  {  // A damaged header on a segment with records is corruption.
    strata::testing::ScratchDir dir;
    WriteLog(dir.path(), 1200);
    FlipBit(SegmentPath(dir.path(), 2), 20, 0);
    RecoveryReport report;
    Status s = Reopen(dir.path(), &report);
    ASSERT_TRUE(s.IsCorruption());
    EXPECT_NE(s.message().find(SegmentFileName(2) + " @ 0"), std::string::npos) << s.ToString();
  }
  {  // A missing segment in the middle.
    strata::testing::ScratchDir dir;
    WriteLog(dir.path(), 1200);
    std::filesystem::remove(SegmentPath(dir.path(), 2));
    RecoveryReport report;
    Status s = Reopen(dir.path(), &report);
    ASSERT_TRUE(s.IsCorruption());
    EXPECT_NE(s.message().find("missing"), std::string::npos) << s.ToString();
  }
  {  // A foreign file named like a segment.
    strata::testing::ScratchDir dir;
    std::unique_ptr<io::WritableFile> f;
    ASSERT_TRUE(io::DefaultFileSystem()
                    ->NewWritableFile(dir.Join("000000000001.wal"), io::FileOptions{}, &f)
                    .ok());
    ASSERT_TRUE(f->Append(std::string(8192, 'z')).ok());
    ASSERT_TRUE(f->Close().ok());
    ASSERT_TRUE(io::DefaultFileSystem()
                    ->NewWritableFile(dir.Join("000000000002.wal"), io::FileOptions{}, &f)
                    .ok());
    ASSERT_TRUE(f->Append(std::string(8192, 'z')).ok());
    ASSERT_TRUE(f->Close().ok());
    RecoveryReport report;
    Status s = Reopen(dir.path(), &report);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("bad magic"), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace strata::wal

namespace strata::wal {
namespace {

// OpenAndReplay hands records over during the recovery scan: all of them on
// a clean log, only the kept prefix in point-in-time mode.
TEST(WalRecovery, OpenAndReplayInOnePass) {
  strata::testing::ScratchDir dir;
  auto where = WriteLog(dir.path(), 1200);
  for (uint64_t from : {1, 700}) {
    std::unique_ptr<Log> log;
    testing::Records got;
    ASSERT_TRUE(Log::OpenAndReplay(SmallOptions(), dir.path(), from,
                                   [&](uint64_t lsn, std::string_view p) {
                                     got.emplace_back(lsn, std::string(p));
                                     return Status::Ok();
                                   },
                                   &log)
                    .ok());
    ASSERT_EQ(got.size(), 1201 - from);
    EXPECT_EQ(got.front().first, from);
    EXPECT_EQ(got.back().second, Payload(1200));
  }
  const RecordLocation victim = where[500];
  FlipBit(SegmentPath(dir.path(), victim.segment_seq), victim.offset + 40, 3);
  LogOptions pit = SmallOptions();
  pit.recovery = WalRecoveryMode::kPointInTime;
  uint64_t last = 0;
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::OpenAndReplay(pit, dir.path(), 1,
                                 [&](uint64_t lsn, std::string_view) {
                                   last = lsn;
                                   return Status::Ok();
                                 },
                                 &log)
                  .ok());
  EXPECT_EQ(last, victim.lsn - 1);
  // A callback error stops Open.
  log.reset();
  Status s = Log::OpenAndReplay(SmallOptions(), dir.path(), 1,
                                [](uint64_t, std::string_view) { return Status::Busy("stop"); },
                                &log);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
}

}  // namespace
}  // namespace strata::wal
