// wal::Log: append, replay, rollover, reopen, concurrency, release, limits.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "tests/testing/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/log.h"

namespace strata::wal {
namespace {

using testing::Payload;
using testing::ReplayAll;
using testing::SmallOptions;

TEST(WalLog, EmptyLogOpensAndReplaysNothing) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Log> log;
  RecoveryReport report;
  ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log, &report).ok());
  EXPECT_EQ(log->next_lsn(), 1u);
  EXPECT_TRUE(ReplayAll(log.get()).empty());
  EXPECT_FALSE(report.torn_tail);
  EXPECT_EQ(report.record_count, 0u);
}

TEST(WalLog, AppendReplayAcrossReopenAndSegments) {
  strata::testing::ScratchDir dir;
  for (auto prep : {SegmentPreparation::kZeroFill, SegmentPreparation::kFallocate,
                    SegmentPreparation::kRecycle, SegmentPreparation::kRecycleElseFallocate}) {
    SCOPED_TRACE(static_cast<int>(prep));
    const std::string path = dir.Join(fmt::format("log{}", static_cast<int>(prep)));
    constexpr uint64_t kRecords = 3000;  // ~400 KiB: several 64 KiB segments
    {
      std::unique_ptr<Log> log;
      ASSERT_TRUE(Log::Open(SmallOptions(prep), path, &log).ok());
      for (uint64_t i = 1; i <= kRecords; ++i) {
        auto lsn = log->Append(Payload(i, i % 300), /*sync=*/i % 97 == 0);
        ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
        ASSERT_EQ(*lsn, i);
      }
      ASSERT_TRUE(log->Sync().ok());
      EXPECT_GT(log->segment_count(), 4u);
    }
    std::unique_ptr<Log> log;
    RecoveryReport report;
    ASSERT_TRUE(Log::Open(SmallOptions(prep), path, &log, &report).ok());
    EXPECT_EQ(report.record_count, kRecords);
    EXPECT_FALSE(report.torn_tail) << report.ToString();
    EXPECT_EQ(log->next_lsn(), kRecords + 1);
    auto records = ReplayAll(log.get());
    ASSERT_EQ(records.size(), kRecords);
    for (uint64_t i = 1; i <= kRecords; ++i) {
      ASSERT_EQ(records[i - 1].first, i);
      ASSERT_EQ(records[i - 1].second, Payload(i, i % 300));
    }
    auto tail = ReplayAll(log.get(), kRecords - 5);
    ASSERT_EQ(tail.size(), 6u);
    EXPECT_EQ(tail.front().first, kRecords - 5);
    auto lsn = log->Append("after reopen", true);
    ASSERT_TRUE(lsn.ok());
    EXPECT_EQ(*lsn, kRecords + 1);
  }
}

TEST(WalLog, ConcurrentAppendsGetUniqueOrderedLsns) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::vector<uint64_t>> lsns(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto lsn = log->Append(fmt::format("t{}-{}", t, i), /*sync=*/i % 2 == 0);
        ASSERT_TRUE(lsn.ok());
        lsns[t].push_back(*lsn);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(std::is_sorted(lsns[t].begin(), lsns[t].end()));
    all.insert(lsns[t].begin(), lsns[t].end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  const LogStats stats = log->stats();
  EXPECT_EQ(stats.records, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_LE(stats.groups, stats.records);
  log.reset();
  ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
  auto records = ReplayAll(log.get());
  ASSERT_EQ(records.size(), all.size());
  // Each thread's records replay in its own order.
  std::vector<int> next(kThreads, 0);
  for (const auto& [lsn, payload] : records) {
    int t = 0, i = 0;
    ASSERT_EQ(std::sscanf(payload.c_str(), "t%d-%d", &t, &i), 2);
    EXPECT_EQ(i, next[t]++);
  }
}

TEST(WalLog, LoneSyncAppenderNeverWaitsForAGroup) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(log->Append(Payload(i, 50), true).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->Sync().ok());
  const LogStats stats = log->stats();
  EXPECT_EQ(stats.group_waits, 0u);
  EXPECT_EQ(stats.group_wait_micros, 0u);
}

// Many sync appenders with the group wait on (the default) and off: the same
// promises either way (every acknowledged record present once, in each
// thread's order), and with the wait off no leader ever waits.
TEST(WalLog, GroupWaitKeepsEveryPromise) {
  for (uint64_t wait_max : {uint64_t{0}, uint64_t{1000}, uint64_t{100000}}) {
    SCOPED_TRACE(fmt::format("group_wait_micros_max={}", wait_max));
    strata::testing::ScratchDir dir;
    LogOptions options = SmallOptions();
    options.group_wait_micros_max = wait_max;
    constexpr int kThreads = 6;
    constexpr int kPerThread = 150;
    {
      std::unique_ptr<Log> log;
      ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          // Threads stop at different times: the leader's expectation of
          // how many appenders return must follow the shrinking load.
          const int count = kPerThread * (t + 1) / kThreads;
          for (int i = 0; i < count; ++i) {
            ASSERT_TRUE(log->Append(fmt::format("t{}-{}", t, i), true).ok());
          }
        });
      }
      for (auto& t : threads) t.join();
      const LogStats stats = log->stats();
      if (wait_max == 0) {
        EXPECT_EQ(stats.group_waits, 0u);
      }
      EXPECT_LE(stats.group_wait_timeouts, stats.group_waits);
      EXPECT_LE(stats.syncs, stats.records);
    }
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
    std::vector<int> next(kThreads, 0);
    for (const auto& [lsn, payload] : ReplayAll(log.get())) {
      int t = 0, i = 0;
      ASSERT_EQ(std::sscanf(payload.c_str(), "t%d-%d", &t, &i), 2);
      EXPECT_EQ(i, next[t]++);
    }
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread * (t + 1) / kThreads);
  }
}

TEST(WalLog, ReleaseBeforeDeletesOrRecyclesWholeSegments) {
  strata::testing::ScratchDir dir;
  for (auto prep : {SegmentPreparation::kZeroFill, SegmentPreparation::kRecycle,
                    SegmentPreparation::kRecycleElseFallocate}) {
    const std::string path = dir.Join(fmt::format("log{}", static_cast<int>(prep)));
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(SmallOptions(prep), path, &log).ok());
    for (uint64_t i = 1; i <= 2000; ++i) ASSERT_TRUE(log->Append(Payload(i), false).ok());
    const uint64_t before = log->segment_count();
    ASSERT_TRUE(log->ReleaseBefore(1500).ok());
    EXPECT_LT(log->segment_count(), before);
    // Keep appending through recycled segments.
    for (uint64_t i = 2001; i <= 4000; ++i) {
      ASSERT_TRUE(log->Append(Payload(i), i % 50 == 0).ok());
    }
    ASSERT_TRUE(log->Sync().ok());
    if (Recycles(prep)) {
      EXPECT_GT(log->stats().segments_recycled, 0u);
    } else {
      EXPECT_EQ(log->stats().segments_recycled, 0u);
    }
    log.reset();
    RecoveryReport report;
    ASSERT_TRUE(Log::Open(SmallOptions(prep), path, &log, &report).ok());
    EXPECT_FALSE(report.torn_tail) << report.ToString();
    auto records = ReplayAll(log.get(), 1500);
    ASSERT_EQ(records.size(), 2501u);
    for (size_t k = 0; k < records.size(); ++k) {
      ASSERT_EQ(records[k].first, 1500 + k);
      ASSERT_EQ(records[k].second, Payload(1500 + k));
    }
  }
}

TEST(WalLog, ReleaseEverythingKeepsNextLsn) {
  strata::testing::ScratchDir dir;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
    for (uint64_t i = 1; i <= 1000; ++i) ASSERT_TRUE(log->Append(Payload(i), false).ok());
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->ReleaseBefore(UINT64_MAX).ok());
  }
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
  EXPECT_EQ(log->next_lsn(), 1001u);
}

// ContinueAt: the old segments go (all their records are below the new
// numbering), the next record gets the LSN asked for, and a reopen keeps it.
TEST(WalLog, ContinueAtStartsTheNumberingAfresh) {
  strata::testing::ScratchDir dir;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
    for (uint64_t i = 1; i <= 1000; ++i) ASSERT_TRUE(log->Append(Payload(i), false).ok());
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_GT(log->segment_count(), 1u);
  }
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
    ASSERT_TRUE(log->ContinueAt(500).ok());  // below next_lsn: nothing to do
    ASSERT_TRUE(log->ContinueAt(5000 + round * 10).ok());
    EXPECT_EQ(log->segment_count(), 1u);
    EXPECT_TRUE(ReplayAll(log.get()).empty());
    auto lsn = log->Append(fmt::format("after{}", round), true);
    ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
    EXPECT_EQ(*lsn, 5000u + round * 10);
    log.reset();
    ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
    const auto records = ReplayAll(log.get());
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].first, 5000u + round * 10);
    EXPECT_EQ(log->next_lsn(), 5001u + round * 10);
  }
}

TEST(WalLog, ReadRecordByLocation) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
  std::vector<RecordLocation> where;
  for (uint64_t i = 1; i <= 1000; ++i) {
    auto loc = log->AppendWithLocation(Payload(i), false);
    ASSERT_TRUE(loc.ok());
    where.push_back(*loc);
  }
  std::string payload;
  for (uint64_t i = 1; i <= 1000; i += 37) {
    ASSERT_TRUE(log->ReadRecord(where[i - 1], &payload).ok());
    EXPECT_EQ(payload, Payload(i));
  }
  RecordLocation wrong = where[10];
  wrong.lsn = 5;
  EXPECT_TRUE(log->ReadRecord(wrong, &payload).IsCorruption());
}

TEST(WalLog, InvalidArguments) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Log> log;
  LogOptions bad = SmallOptions();
  bad.segment_bytes = 1000;
  EXPECT_TRUE(Log::Open(bad, dir.path(), &log).IsInvalidArgument());
  ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
  auto big = log->Append(std::string(kSegmentBytesMin, 'x'), true);
  EXPECT_TRUE(big.status().IsInvalidArgument());
  // The largest record leaves room for a grow record before it and the
  // seal at the segment's end.
  const uint64_t max_payload = SegmentPayloadBytesMax(kSegmentBytesMin);
  EXPECT_EQ(max_payload, kSegmentBytesMin - kSegmentHeaderBytes - kRecordHeaderBytes -
                             kSealRecordBytes - kGrowRecordBytes);
  auto over = log->Append(std::string(max_payload + 1, 'z'), true);
  EXPECT_TRUE(over.status().IsInvalidArgument());
  auto ok = log->Append(std::string(max_payload, 'y'), true);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto next = log->Append(std::string(max_payload, 'w'), true);  // a segment of its own
  EXPECT_TRUE(next.ok()) << next.status().ToString();
  // A second open of the same directory is Busy.
  std::unique_ptr<Log> second;
  EXPECT_TRUE(Log::Open(SmallOptions(), dir.path(), &second).IsBusy());
}

TEST(WalLog, DirectIo) {
  strata::testing::ScratchDir dir;
  LogOptions options = SmallOptions();
  options.direct_io = true;
  {
    std::unique_ptr<Log> log;
    Status s = Log::Open(options, dir.path(), &log);
    if (!s.ok()) GTEST_SKIP() << "O_DIRECT unavailable here: " << s.ToString();
    for (uint64_t i = 1; i <= 1500; ++i) {
      ASSERT_TRUE(log->Append(Payload(i, i % 200), i % 100 == 0).ok());
    }
    EXPECT_GT(log->stats().device_bytes_written, log->stats().bytes_written);
  }
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
    auto records = ReplayAll(log.get());
    ASSERT_EQ(records.size(), 1500u + round);
    for (uint64_t i = 1; i <= 1500; ++i) ASSERT_EQ(records[i - 1].second, Payload(i, i % 200));
    ASSERT_TRUE(log->Append("more", true).ok());  // continues inside the partial block
  }
}

}  // namespace
}  // namespace strata::wal
