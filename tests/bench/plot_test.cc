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
  ASSERT_EQ(written.size(), 2u);
  std::ifstream in(written[0]);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str().substr(0, 5), "<?xml");
  Parse(ss.str());
  EXPECT_TRUE(WritePlots("/proc/cannot/create", Runs(), &written).IsIOError());
}

}  // namespace
}  // namespace strata::bench
