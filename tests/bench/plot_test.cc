#include "bench/driver/plot.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "tests/bench/json_check.h"
#include "tests/testing/test_util.h"

namespace strata::bench {
namespace {

std::vector<EngineRun> Runs() {
  std::vector<EngineRun> runs;
  for (const char* engine : {"rocksdb", "lmdb", "a<b&c"}) {
    EngineRun run;
    run.engine = engine;
    WorkloadResult r;
    r.engine = engine;
    r.workload = "fillrandom";
    r.ops_per_second = {120000, 80000, 130000};
    for (uint64_t v = 500; v < 50000; v += 7) r.latency.Record(v);
    run.results.push_back(r);
    runs.push_back(run);
  }
  return runs;
}

std::vector<testcheck::XmlElement> Parse(const std::string& svg) {
  std::vector<testcheck::XmlElement> elements;
  EXPECT_TRUE(testcheck::WalkXml(svg, &elements)) << svg;
  return elements;
}

TEST(BenchPlotTest, ThroughputChartIsValidSvgWithOneSeriesPerEngine) {
  const auto charts = BuildCharts(Runs());
  ASSERT_EQ(charts.size(), 2u);
  EXPECT_EQ(charts[0].first, "throughput-fillrandom.svg");
  EXPECT_EQ(charts[1].first, "latency-fillrandom.svg");
  const std::string svg = RenderSvg(charts[0].second);
  const auto elements = Parse(svg);
  ASSERT_FALSE(elements.empty());
  EXPECT_EQ(elements[0].name, "svg");
  EXPECT_EQ(elements[0].attributes.at("xmlns"), "http://www.w3.org/2000/svg");
  std::set<std::string> series;
  std::set<std::string> texts;
  for (const auto& e : elements) {
    if (e.name == "polyline") {
      series.insert(e.attributes.at("data-series"));
      // One point per second: three "x,y" pairs.
      const std::string& points = e.attributes.at("points");
      EXPECT_EQ(std::count(points.begin(), points.end(), ','), 3) << points;
    }
  }
  EXPECT_EQ(series, (std::set<std::string>{"rocksdb", "lmdb", "a&lt;b&amp;c"}));
  // Title, axis labels with units, and legend entries are there.
  for (const char* want : {"fillrandom: throughput over time", "time (s)",
                           "throughput (k ops/s)", ">rocksdb<", ">lmdb<"}) {
    EXPECT_NE(svg.find(want), std::string::npos) << want;
  }
}

TEST(BenchPlotTest, LatencyCdfUsesALogAxisAndEndsAtOne) {
  const auto charts = BuildCharts(Runs());
  const LineChart& cdf = charts[1].second;
  EXPECT_TRUE(cdf.x_log);
  ASSERT_EQ(cdf.series.size(), 3u);
  EXPECT_DOUBLE_EQ(cdf.series[0].points.back().second, 1.0);
  const std::string svg = RenderSvg(cdf);
  Parse(svg);
  EXPECT_NE(svg.find("latency (us, log scale)"), std::string::npos);
  // Decade ticks: 0.1 us .. 100 us around 0.5-50 us samples.
  EXPECT_NE(svg.find(">1<"), std::string::npos);
  EXPECT_NE(svg.find(">10<"), std::string::npos);
  EXPECT_NE(svg.find(">100<"), std::string::npos);
}

TEST(BenchPlotTest, EmptyChartStillRenders) {
  LineChart empty{"nothing", "x", "y", false, {}};
  Parse(RenderSvg(empty));
  LineChart log_empty{"nothing", "x", "y", true, {{"s", {{0, 1}}}}};
  Parse(RenderSvg(log_empty));
}

TEST(BenchPlotTest, SinglePointSeriesGetsAMarker) {
  // A workload shorter than one sampling interval yields one throughput point;
  // it must still be visible (a one-point polyline draws nothing).
  LineChart chart{"short", "time (s)", "throughput (k ops/s)", false,
                  {{"fast", {{0.8, 250}}}, {"slow", {{1, 90}, {2, 85}}}}};
  int circles = 0;
  for (const auto& e : Parse(RenderSvg(chart))) circles += e.name == "circle";
  EXPECT_EQ(circles, 1);
}

TEST(BenchPlotTest, WritesFilesIntoTheDirectory) {
  testing::ScratchDir dir;
  std::vector<std::string> written;
  ASSERT_TRUE(WritePlots(dir.Join("plots/sub"), Runs(), &written).ok());
  ASSERT_EQ(written.size(), 3u);
  EXPECT_TRUE(written[0].ends_with("/summary.svg")) << written[0];
  std::ifstream in(written[0]);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str().substr(0, 5), "<?xml");
  Parse(ss.str());
  EXPECT_TRUE(WritePlots("/proc/cannot/create", Runs(), &written).IsIOError());
}

// A run of a third of a second, sampled every 100 ms, still draws a line
// (the one-second series has a single point); a long run gets about
// kThroughputBuckets points, not one per 100 ms sample.
TEST(BenchPlotTest, ThroughputBucketsAdaptToTheRunLength) {
  WorkloadResult shortrun;
  shortrun.seconds = 0.35;
  shortrun.ops_per_second = {30000};
  shortrun.progress = {{0, 0}, {0.1, 10000}, {0.2, 20000}, {0.3, 30000}, {0.35, 35000}};
  const auto p = ThroughputPoints(shortrun);
  ASSERT_GE(p.size(), 3u);
  EXPECT_NEAR(p.back().first, 0.35, 1e-9);
  for (auto [t, k] : p) EXPECT_NEAR(k, 100, 1e-6) << t;  // 100k ops/s throughout

  WorkloadResult longrun;
  longrun.seconds = 600;
  uint64_t done = 0;
  for (int i = 0; i <= 6000; ++i) {
    longrun.progress.emplace_back(i * 0.1, done);
    done += i >= 3000 && i < 3010 ? 0 : 1000;  // a one-second stall in the middle
  }
  const auto q = ThroughputPoints(longrun);
  EXPECT_EQ(q.size(), static_cast<size_t>(kThroughputBuckets));
  double low = 1e9;
  for (auto [t, k] : q) low = std::min(low, k);
  EXPECT_LT(low, 10 * 0.95);  // the stall shows as a dip below the steady 10k ops/s

  // No progress samples (results from an older run): the one-second series.
  WorkloadResult old;
  old.seconds = 3;
  old.ops_per_second = {1000, 2000, 3000};
  EXPECT_EQ(ThroughputPoints(old).size(), 3u);
}

TEST(BenchPlotTest, SummaryChartHasABarPerEngineAndWorkloadWithRatios) {
  std::vector<EngineRun> runs;
  for (const auto& [engine, scale] : std::vector<std::pair<std::string, double>>{
           {"leveldb", 1.0}, {"lsm", 1.5}, {"a<b", 0.5}}) {
    EngineRun run;
    run.engine = engine;
    for (const char* w : {"fillrandom", "readrandom"}) {
      WorkloadResult r;
      r.workload = w;
      r.ops = static_cast<uint64_t>(100000 * scale);
      r.seconds = 1;
      run.results.push_back(r);
    }
    runs.push_back(run);
  }
  runs[2].results.pop_back();  // one engine without readrandom: no bar, no crash
  const std::string svg = RenderBarSvg(BuildSummaryChart(runs, "leveldb"));
  std::set<std::string> bars;
  for (const auto& e : Parse(svg)) {
    if (e.name == "rect" && e.attributes.count("data-engine")) {
      bars.insert(e.attributes.at("data-engine") + "/" + e.attributes.at("data-workload"));
    }
  }
  EXPECT_EQ(bars, (std::set<std::string>{"leveldb/fillrandom", "leveldb/readrandom",
                                         "lsm/fillrandom", "lsm/readrandom",
                                         "a&lt;b/fillrandom"}));
  EXPECT_NE(svg.find("(1.50x)"), std::string::npos);
  EXPECT_NE(svg.find("(0.50x)"), std::string::npos);
  EXPECT_NE(svg.find("leveldb (baseline)"), std::string::npos);
}

}  // namespace
}  // namespace strata::bench
