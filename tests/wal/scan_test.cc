// ScanArrivingSegment (a segment scanned while it is still being read) gives
// exactly ScanSegment's verdict on the whole segment, however the bytes
// arrive; and recovery through the streaming loader keeps records that cross
// its read windows.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <random>

#include "tests/testing/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/format.h"
#include "wal/log.h"
#include "wal/segment_scan.h"

namespace strata::wal {
namespace {

using testing::FlipBit;
using testing::Payload;
using testing::ReplayAll;
using testing::SegmentPath;

struct Seen {
  uint64_t lsn, offset;
  std::string payload;
  bool operator==(const Seen&) const = default;
};

// A segment image: records of random sizes, then one of several endings.
std::string RandomSegment(std::mt19937_64& rng, uint64_t seq, int ending) {
  std::string data(kSegmentHeaderBytes, '\0');
  EncodeSegmentHeader(SegmentHeader{seq, 1 * kMiB, 1 * kMiB}, data.data());
  const int records = static_cast<int>(rng() % 200);
  for (int i = 0; i < records; ++i) {
    const std::string payload = Payload(i, rng() % 3000);
    std::string rec(RecordBytes(payload.size()), '\0');
    EncodeRecord(seq, 100 + i, payload, rec.data());
    data += rec;
  }
  const uint64_t end = data.size();
  data.resize(end + rng() % 20000, '\0');  // zeros after the end
  switch (ending) {
    case 1:  // torn: a record cut short
      if (end > kSegmentHeaderBytes + 40) data.resize(end - 7);
      break;
    case 2:  // a flipped bit somewhere in the records: corruption or torn
      if (end > kSegmentHeaderBytes) {
        const uint64_t at = kSegmentHeaderBytes + rng() % (end - kSegmentHeaderBytes);
        data[at] = static_cast<char>(data[at] ^ (1 << (rng() % 8)));
      }
      break;
    case 3: {  // a stale record of an older segment after the end
      std::string rec(RecordBytes(50), '\0');
      EncodeRecord(seq - 1, 7, Payload(7, 50), rec.data());
      data.replace(end, std::min(rec.size(), data.size() - end), rec.substr(0, data.size() - end));
      break;
    }
    default: break;
  }
  return data;
}

Status Scan(std::string_view data, uint64_t seq, const MoreDataFn* more, SegmentScan* scan,
            std::vector<Seen>* seen) {
  RecordFn fn = [&](uint64_t lsn, uint64_t offset, std::string_view payload) {
    seen->push_back(Seen{lsn, offset, std::string(payload)});
    return Status::Ok();
  };
  return more ? ScanArrivingSegment(seq, 0, *more, fn, scan) : ScanSegment(data, seq, 0, fn, scan);
}

TEST(WalScan, ArrivingBytesGiveTheWholeSegmentVerdict) {
  const uint64_t seed = strata::testing::TestSeed(11);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 400; ++round) {
    SCOPED_TRACE(round);
    const std::string data = RandomSegment(rng, 9, round % 4);
    SegmentScan whole;
    std::vector<Seen> whole_seen;
    ASSERT_TRUE(Scan(data, 9, nullptr, &whole, &whole_seen).ok());
    // Bytes arrive in random steps, sometimes splitting headers and payloads.
    uint64_t arrived = 0;
    int calls = 0;
    MoreDataFn more = [&](uint64_t want, std::string_view* have, bool* complete) {
      ++calls;
      const uint64_t step = 1 + rng() % 5000;
      arrived = std::min<uint64_t>(data.size(), std::max(arrived + step, std::min(want, data.size())));
      *have = std::string_view(data).substr(0, arrived);
      *complete = arrived == data.size();
      return Status::Ok();
    };
    SegmentScan streamed;
    std::vector<Seen> streamed_seen;
    ASSERT_TRUE(Scan(data, 9, &more, &streamed, &streamed_seen).ok());
    EXPECT_GT(calls, 0);
    EXPECT_EQ(streamed_seen, whole_seen);
    EXPECT_EQ(streamed.record_count, whole.record_count);
    EXPECT_EQ(streamed.last_lsn, whole.last_lsn);
    EXPECT_EQ(streamed.end_offset, whole.end_offset);
    EXPECT_EQ(streamed.end_check, whole.end_check);
    EXPECT_EQ(streamed.damaged, whole.damaged);
    EXPECT_EQ(streamed.damaged_bytes, whole.damaged_bytes);
    EXPECT_EQ(streamed.valid_after, whole.valid_after);
    EXPECT_EQ(streamed.valid_after_offset, whole.valid_after_offset);
    EXPECT_EQ(streamed.dirty_end, whole.dirty_end);
  }
}

TEST(WalScan, MoreDataErrorStopsTheScan) {
  MoreDataFn failing = [](uint64_t, std::string_view*, bool*) {
    return Status::IOError("read failed");
  };
  SegmentScan scan;
  EXPECT_TRUE(ScanArrivingSegment(1, 0, failing, nullptr, &scan).IsIOError());
}

// Segments larger than the loader's read window: records straddle windows,
// recovery keeps every one, and a flipped bit in a later window is still
// Corruption naming the segment and offset.
TEST(WalScan, RecoveryAcrossReadWindows) {
  strata::testing::ScratchDir dir;
  LogOptions options;
  options.segment_bytes = 3 * kRecoveryWindowBytes;
  options.preparation = SegmentPreparation::kFallocate;
  std::vector<RecordLocation> where;
  uint64_t bytes = 0;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
    for (uint64_t i = 1; bytes < 4 * kRecoveryWindowBytes; ++i) {
      auto loc = log->AppendWithLocation(Payload(i, 1000 + (i * 7919) % 60000), false);
      ASSERT_TRUE(loc.ok());
      where.push_back(*loc);
      bytes += RecordBytes(loc->payload_bytes);
    }
    ASSERT_TRUE(log->Sync().ok());
  }
  {
    std::unique_ptr<Log> log;
    RecoveryReport report;
    ASSERT_TRUE(Log::Open(options, dir.path(), &log, &report).ok());
    EXPECT_EQ(report.record_count, where.size());
    EXPECT_FALSE(report.torn_tail);
    const auto records = ReplayAll(log.get());
    ASSERT_EQ(records.size(), where.size());
    for (size_t i = 0; i < where.size(); ++i) {
      ASSERT_EQ(records[i].second, Payload(i + 1, where[i].payload_bytes));
    }
  }
  // A record in the second window of the first segment, followed by many.
  const RecordLocation* victim = nullptr;
  for (const RecordLocation& loc : where) {
    if (loc.segment_seq == where.front().segment_seq && loc.offset > kRecoveryWindowBytes + 100) {
      victim = &loc;
      break;
    }
  }
  ASSERT_NE(victim, nullptr);
  FlipBit(SegmentPath(dir.path(), victim->segment_seq), victim->offset + kRecordHeaderBytes + 3,
          2);
  std::unique_ptr<Log> log;
  const Status s = Log::Open(options, dir.path(), &log);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format("@ {}", victim->offset)), std::string::npos)
      << s.ToString();
}

}  // namespace
}  // namespace strata::wal
