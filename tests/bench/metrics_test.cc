#include "bench/driver/metrics.h"

#include <gtest/gtest.h>

#include <fstream>

#include "bench/driver/histogram.h"
#include "bench/driver/results.h"
#include "tests/testing/test_util.h"

namespace strata::bench {
namespace {

TEST(BenchMetricsTest, ParsesProcIo) {
  const char* text =
      "rchar: 100\nwchar: 200\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 81920\n"
      "cancelled_write_bytes: 8192\n";
  Result<ProcIo> io = ParseProcIo(text);
  ASSERT_TRUE(io.ok());
  EXPECT_EQ(io->read_bytes, 4096u);
  EXPECT_EQ(io->write_bytes, 81920u);
  EXPECT_EQ(io->cancelled_write_bytes, 8192u);
  EXPECT_EQ(io->wchar, 200u);
  EXPECT_TRUE(ParseProcIo("rchar: 1\n").status().IsCorruption());
  EXPECT_TRUE(ReadProcIo().ok());
}

TEST(BenchMetricsTest, ParsesStatusFields) {
  const char* text = "Name:\tstrata\nVmPeak:\t  20000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
  Result<uint64_t> hwm = ParseStatusField(text, "VmHWM");
  ASSERT_TRUE(hwm.ok());
  EXPECT_EQ(*hwm, 1234u * 1024);
  EXPECT_TRUE(ParseStatusField(text, "VmSwap").status().IsNotFound());
  EXPECT_GT(PeakRssBytes(), 0u);
}

TEST(BenchMetricsTest, AmplificationArithmetic) {
  WorkloadResult r;
  r.user_bytes_written = 1000;
  r.io_write_bytes = 3500;
  r.syscall_write_bytes = 4000;
  r.engine_user_bytes = 1000;
  r.engine_device_bytes = 2500;
  r.disk_bytes = 1500;
  r.live_bytes = 1000;
  EXPECT_DOUBLE_EQ(*r.write_amp_io(), 3.5);
  EXPECT_DOUBLE_EQ(*r.write_amp_syscall(), 4.0);
  EXPECT_DOUBLE_EQ(*r.write_amp_engine(), 2.5);
  EXPECT_DOUBLE_EQ(*r.space_amp(), 1.5);
  // The logical bytes are the denominator for every engine: an engine's own
  // user-byte count (which includes its batch encoding) is not used.
  r.engine_user_bytes = 500;
  EXPECT_DOUBLE_EQ(*r.write_amp_engine(), 2.5);
  r.engine_user_bytes.reset();
  EXPECT_DOUBLE_EQ(*r.write_amp_engine(), 2.5);
  // Nothing written or nothing live: no ratio rather than infinity.
  WorkloadResult reads;
  EXPECT_FALSE(reads.write_amp_io().has_value());
  EXPECT_FALSE(reads.write_amp_engine().has_value());
  EXPECT_FALSE(reads.space_amp().has_value());
  EXPECT_EQ(Delta(10, 4), 0u);
  EXPECT_EQ(Delta(4, 10), 6u);
  reads.ops = 500;
  reads.bytes = 1048576;
  reads.seconds = 2;
  EXPECT_DOUBLE_EQ(reads.ops_per_sec(), 250);
  EXPECT_DOUBLE_EQ(reads.mb_per_sec(), 0.5);
}

TEST(BenchMetricsTest, DirDiskBytesCountsFilesNotPreallocation) {
  testing::ScratchDir dir;
  {
    std::ofstream(dir.Join("a")) << std::string(10000, 'x');
  }
  const uint64_t bytes = DirDiskBytes(dir.path());
  EXPECT_EQ(bytes, 10000u);  // min(allocated, apparent)
  EXPECT_EQ(DirDiskBytes(dir.Join("missing")), 0u);
}

TEST(BenchHistogramTest, BucketsCoverEveryValue) {
  for (uint64_t v : {0ull, 1ull, 31ull, 32ull, 33ull, 1000ull, 123456789ull, ~0ull}) {
    const int i = Histogram::BucketIndex(v);
    ASSERT_GE(i, 0);
    ASSERT_LT(i, Histogram::kBucketCount);
    EXPECT_LE(Histogram::BucketLow(i), v);
    if (v != ~0ull) {
      EXPECT_LT(v, Histogram::BucketHigh(i));
    }
  }
}

TEST(BenchHistogramTest, PercentilesWithinBucketResolution) {
  Histogram h;
  for (uint64_t v = 1; v <= 100000; ++v) h.Record(v * 10);  // 10 ns .. 1 ms uniform
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.max_nanos(), 1000000u);
  EXPECT_EQ(h.min_nanos(), 10u);
  EXPECT_NEAR(h.Percentile(0.5), 500000, 500000 * 0.04);
  EXPECT_NEAR(h.Percentile(0.99), 990000, 990000 * 0.04);
  EXPECT_NEAR(h.Percentile(0.999), 999000, 999000 * 0.04);
  EXPECT_EQ(h.Percentile(1.0), 1000000);
  EXPECT_NEAR(h.mean_nanos(), 500005, 1);
  const auto cdf = h.Cdf();
  ASSERT_FALSE(cdf.empty());
  EXPECT_DOUBLE_EQ(cdf.back().second, 1.0);
  for (size_t i = 1; i < cdf.size(); ++i) EXPECT_GT(cdf[i].first, cdf[i - 1].first);
}

TEST(BenchHistogramTest, MergeAndEncodeRoundTrip) {
  Histogram a, b;
  for (uint64_t v : {5, 50, 500}) a.Record(v);
  for (uint64_t v : {7000, 9}) b.Record(v);
  a.Merge(b);
  EXPECT_EQ(a.count(), 5u);
  EXPECT_EQ(a.max_nanos(), 7000u);
  Result<Histogram> back = Histogram::Decode(a.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->Encode(), a.Encode());
  EXPECT_TRUE(Histogram::Decode(Histogram().Encode()).ok());
  EXPECT_TRUE(Histogram::Decode("3 10 1 5 1:2").status().IsCorruption());  // counts disagree
  EXPECT_TRUE(Histogram::Decode("1 1 1 1 99999:1").status().IsCorruption());
  EXPECT_TRUE(Histogram::Decode("garbage").status().IsCorruption());
}

TEST(BenchResultsTest, EngineRunRoundTripsThroughText) {
  EngineRun run;
  run.engine = "rocksdb";
  run.settings = "a\tb settings";
  WorkloadResult r;
  r.workload = "fillrandom";
  r.ops = 10;
  r.seconds = 0.25;
  r.latency.Record(1234);
  r.ops_per_second = {100.5, 200};
  r.progress = {{0, 0}, {0.125, 4}, {0.25, 10}};
  r.user_bytes_written = 1160;
  r.io_write_bytes = 2000;
  r.syscall_write_bytes = 2100;
  r.engine_device_bytes = 1500;
  r.modeled_seconds = 1.5;
  r.disk_bytes = 3;
  r.live_bytes = 4;
  r.peak_rss_bytes = 5;
  run.results.push_back(r);
  Result<EngineRun> back = DecodeEngineRun(EncodeEngineRun(run));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->engine, "rocksdb");
  EXPECT_EQ(back->settings, "a b settings");
  ASSERT_EQ(back->results.size(), 1u);
  const WorkloadResult& b = back->results[0];
  EXPECT_EQ(b.engine, "rocksdb");
  EXPECT_EQ(b.workload, "fillrandom");
  EXPECT_EQ(b.ops, 10u);
  EXPECT_DOUBLE_EQ(b.seconds, 0.25);
  EXPECT_EQ(b.latency.count(), 1u);
  EXPECT_EQ(b.ops_per_second, (std::vector<double>{100.5, 200}));
  EXPECT_EQ(b.progress, r.progress);
  EXPECT_EQ(b.engine_device_bytes, 1500u);
  EXPECT_EQ(b.syscall_write_bytes, 2100u);
  EXPECT_FALSE(DecodeEngineRun(EncodeEngineRun(EngineRun{"x", "", "", {WorkloadResult()}}))
                   ->results[0]
                   .syscall_write_bytes.has_value());
  EXPECT_FALSE(b.engine_user_bytes.has_value());
  EXPECT_DOUBLE_EQ(*b.modeled_seconds, 1.5);
  EXPECT_EQ(b.peak_rss_bytes, 5u);
  EXPECT_TRUE(DecodeEngineRun("result\tops=1\n").status().IsCorruption());
  EXPECT_TRUE(DecodeEngineRun("engine\tx\nresult\tops=abc\n").status().IsCorruption());
  EXPECT_TRUE(DecodeEngineRun("engine\tx\nresult\tcolour=red\n").status().IsCorruption());
}

}  // namespace
}  // namespace strata::bench
