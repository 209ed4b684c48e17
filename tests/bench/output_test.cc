#include "bench/driver/output.h"

#include <gtest/gtest.h>

#include "tests/bench/json_check.h"

namespace strata::bench {
namespace {

std::vector<EngineRun> SampleRuns() {
  std::vector<EngineRun> runs(2);
  runs[0].engine = "rocksdb";
  runs[0].settings = "rocksdb 7.8: \"quoted\", with commas";
  runs[1].engine = "lmdb";
  runs[1].settings = "lmdb";
  runs[1].error = "open failed: \"x\"";
  const double ops_per_sec[2] = {1000, 2500};
  for (int e = 0; e < 2; ++e) {
    for (const char* w : {"fillrandom", "readrandom"}) {
      WorkloadResult r;
      r.engine = runs[e].engine;
      r.workload = w;
      r.ops = 2000;
      r.seconds = r.ops / ops_per_sec[e];
      r.bytes = 2000 * 116;
      for (uint64_t v = 1000; v < 3000; ++v) r.latency.Record(v);
      r.ops_per_second = {ops_per_sec[e], ops_per_sec[e] * 0.9};
      if (std::string(w) == "fillrandom") {
        r.user_bytes_written = 232000;
        r.io_write_bytes = 464000;
        r.syscall_write_bytes = 696000;
      }
      r.disk_bytes = 300000;
      r.live_bytes = 232000;
      r.peak_rss_bytes = 64 << 20;
      runs[e].results.push_back(r);
    }
  }
  return runs;
}

BenchConfig SampleConfig() {
  BenchConfig c;
  c.benchmarks = {"fillrandom", "readrandom"};
  c.engines = {"rocksdb", "lmdb"};
  c.baseline = "rocksdb";
  return c;
}

TEST(OutputTest, BaselineRatio) {
  const auto runs = SampleRuns();
  EXPECT_DOUBLE_EQ(*BaselineRatio(runs, "rocksdb", runs[1].results[0]), 2.5);
  EXPECT_DOUBLE_EQ(*BaselineRatio(runs, "rocksdb", runs[0].results[1]), 1.0);
  EXPECT_FALSE(BaselineRatio(runs, "leveldb", runs[1].results[0]).has_value());
}

TEST(OutputTest, TableIsAlignedAndComplete) {
  const std::string table = FormatTable(SampleConfig(), SampleRuns());
  EXPECT_NE(table.find("num=1000000"), std::string::npos);
  EXPECT_NE(table.find("rocksdb 7.8: \"quoted\""), std::string::npos);
  EXPECT_NE(table.find("lmdb: FAILED: open failed"), std::string::npos);
  // Header and the four rows have the same width up to the last column.
  std::vector<std::string> lines;
  size_t pos = table.find("engine ");
  ASSERT_NE(pos, std::string::npos);
  for (int i = 0; i < 5; ++i) {
    const size_t eol = table.find('\n', pos);
    lines.push_back(table.substr(pos, eol - pos));
    pos = eol + 1;
  }
  for (const auto& l : lines) EXPECT_EQ(l.size(), lines[0].size()) << l;
  EXPECT_NE(lines[3].find("2.50"), std::string::npos) << lines[3];  // x base for lmdb
  EXPECT_NE(lines[1].find("2.00"), std::string::npos) << lines[1];  // WA io
}

TEST(OutputTest, OptionalColumnsOnlyWhenAskedFor) {
  BenchConfig config = SampleConfig();
  auto runs = SampleRuns();
  runs[0].results[0].modeled_seconds = 12.5;
  std::string table = FormatTable(config, runs);
  EXPECT_EQ(table.find("model s\n"), std::string::npos);
  config.device_model = "hdd";
  table = FormatTable(config, runs);
  EXPECT_NE(table.find("wall s  model s\n"), std::string::npos) << table;
  EXPECT_NE(table.find("12.500"), std::string::npos) << table;
  config.baseline.clear();
  EXPECT_EQ(FormatTable(config, runs).find("x base  wall s"), std::string::npos);
}

TEST(OutputTest, JsonIsValidAndCarriesTheFigures) {
  const std::string json = FormatJson(SampleConfig(), SampleRuns());
  EXPECT_TRUE(testcheck::JsonValidator(json).Valid()) << json;
  EXPECT_NE(json.find("\"engine\": \"rocksdb\""), std::string::npos);
  EXPECT_NE(json.find("\\\"quoted\\\""), std::string::npos);
  EXPECT_NE(json.find("\"error\": \"open failed: \\\"x\\\"\""), std::string::npos);
  EXPECT_NE(json.find("\"write_amp_io\": 2,"), std::string::npos);
  EXPECT_NE(json.find("\"write_amp_io\": null"), std::string::npos);
  EXPECT_NE(json.find("\"write_amp_syscall\": 3,"), std::string::npos);
  EXPECT_NE(json.find("\"baseline_ratio\": 2.5"), std::string::npos);
  EXPECT_NE(json.find("\"ops_per_second\": [2500, 2250]"), std::string::npos);
  // Empty and engine-less inputs are valid JSON too.
  EXPECT_TRUE(testcheck::JsonValidator(FormatJson(BenchConfig(), {})).Valid());
  std::vector<EngineRun> empty(1);
  empty[0].engine = "x";
  EXPECT_TRUE(testcheck::JsonValidator(FormatJson(BenchConfig(), empty)).Valid());
  EXPECT_FALSE(testcheck::JsonValidator("{\"a\": [1, 2,]}").Valid());
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

TEST(OutputTest, CsvHasAHeaderAndOneRowPerResult) {
  const std::string csv = FormatCsv(SampleConfig(), SampleRuns());
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < csv.size();) {
    const size_t eol = csv.find('\n', pos);
    lines.push_back(csv.substr(pos, eol - pos));
    pos = eol + 1;
  }
  ASSERT_EQ(lines.size(), 5u);
  auto fields = [](const std::string& l) { return std::count(l.begin(), l.end(), ',') + 1; };
  EXPECT_EQ(fields(lines[0]), 18);
  for (const auto& l : lines) EXPECT_EQ(fields(l), fields(lines[0])) << l;
  EXPECT_EQ(lines[0].substr(0, 24), "engine,workload,ops,foun");
  EXPECT_EQ(lines[3].substr(0, 16), "lmdb,fillrandom,");
  EXPECT_NE(lines[3].find(",2.5,"), std::string::npos) << lines[3];
  EXPECT_EQ(CsvField("a,\"b\""), "\"a,\"\"b\"\"\"");
  EXPECT_EQ(CsvField("plain"), "plain");
}

}  // namespace
}  // namespace strata::bench
