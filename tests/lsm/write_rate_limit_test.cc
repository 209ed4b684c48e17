// Options::background_write_bytes_per_second (issue 13): the token bucket
// itself, and flushes and compactions charged to it. Timing asserts are
// lower bounds only (a loaded machine makes runs slower, never faster).
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "io/write_rate_limiter.h"
#include "lsm/db_impl.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Many small requests from two threads: the schedule holds them to the rate
// (minus the one burst the bucket may hold), and counts every byte.
TEST(WriteRateLimiterTest, HoldsManyRequestsToTheRate) {
  constexpr uint64_t kRate = 1 << 20;  // 1 MiB/s: a 100 ms burst is ~102 KiB
  io::WriteRateLimiter limiter(kRate);
  EXPECT_EQ(limiter.burst_bytes(), kRate / 10);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) limiter.Request(1000);  // 200 KB per thread
    });
  }
  for (auto& t : threads) t.join();
  const uint64_t total = 2 * 200 * 1000;
  EXPECT_EQ(limiter.bytes_requested(), total);
  EXPECT_GT(limiter.waits(), 100u);
  const double floor = static_cast<double>(total - limiter.burst_bytes()) / kRate;
  EXPECT_GE(SecondsSince(start), floor * 0.99);
  EXPECT_GE(limiter.wait_micros(), 0u);
}

// A request larger than the burst is charged in burst-sized pieces.
TEST(WriteRateLimiterTest, LargeRequestIsSplitIntoBursts) {
  io::WriteRateLimiter limiter(64 * 1024);  // burst: max(6553, 4096) bytes
  const auto start = Clock::now();
  limiter.Request(64 * 1024);
  EXPECT_GE(limiter.waits(), 8u);
  EXPECT_GE(SecondsSince(start),
            static_cast<double>(64 * 1024 - limiter.burst_bytes()) / (64 * 1024) * 0.99);
}

// Idle time earns at most one burst: after a pause, a second round waits as
// the first did.
TEST(WriteRateLimiterTest, IdleTimeEarnsOneBurstOnly) {
  constexpr uint64_t kRate = 256 * 1024;
  io::WriteRateLimiter limiter(kRate);
  for (int i = 0; i < 10; ++i) limiter.Request(8192);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const uint64_t waits_before = limiter.waits();
  const auto start = Clock::now();
  for (int i = 0; i < 20; ++i) limiter.Request(8192);
  EXPECT_GT(limiter.waits(), waits_before);
  EXPECT_GE(SecondsSince(start),
            static_cast<double>(20 * 8192 - limiter.burst_bytes()) / kRate * 0.99);
}

// Flushes and a full compaction at 512 KiB/s: every table byte is charged
// to the limiter, the limiter made them wait, the compaction took at least
// its bytes over the rate, and every key reads back.
TEST(LsmWriteRateLimitTest, FlushAndCompactionWritesAreCharged) {
  strata::testing::ScratchDir dir;
  Options o = testing::TinyOptions();
  o.compression = Compression::kNone;
  o.background_write_bytes_per_second = 512 * 1024;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, dir.Join("db"), &db).ok());
  auto key = [](int i) { return fmt::format("k{:05}", i); };
  auto value = [](int i) { return fmt::format("{:0200}", i); };
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(db->Put({}, key((i * 7) % 3000), value(i)).ok());
  ASSERT_TRUE(db->Flush().ok());
  ASSERT_TRUE(static_cast<DBImpl*>(db.get())->WaitForCompactions().ok());
  EngineStats before = db->Stats();
  const auto start = Clock::now();
  ASSERT_TRUE(db->CompactAll().ok());
  const double compact_seconds = SecondsSince(start);
  const EngineStats after = db->Stats();
  const uint64_t table_bytes = after.flush_bytes_written + after.compaction_bytes_written;
  const uint64_t charged = testing::Property(after, "lsm.write_rate_limit.bytes");
  EXPECT_GE(charged, table_bytes);
  EXPECT_GT(testing::Property(after, "lsm.write_rate_limit.waits"), 10u);
  EXPECT_EQ(testing::Property(after, "lsm.write_rate_limit.bytes_per_second"), 512u * 1024);
  const uint64_t compacted = after.compaction_bytes_written - before.compaction_bytes_written;
  ASSERT_GT(compacted, 300u * 1024);
  // The compaction's own bytes, less one burst, over the rate.
  EXPECT_GE(compact_seconds,
            static_cast<double>(compacted - o.background_write_bytes_per_second / 10) /
                static_cast<double>(o.background_write_bytes_per_second) * 0.99);
  for (int i = 0; i < 3000; ++i) {
    const int last = [&] {
      int l = -1;
      for (int j = 0; j < 3000; ++j) {
        if ((j * 7) % 3000 == i) l = j;
      }
      return l;
    }();
    ASSERT_EQ(testing::GetOrStatus(db.get(), key(i)), value(last));
  }
  ASSERT_TRUE(db->Close().ok());
}

TEST(LsmWriteRateLimitTest, OffByDefault) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(testing::TinyOptions(), dir.Join("db"), &db).ok());
  const EngineStats st = db->Stats();
  for (const auto& [k, v] : st.properties) EXPECT_EQ(k.find("write_rate_limit"), std::string::npos);
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace
}  // namespace strata::lsm
