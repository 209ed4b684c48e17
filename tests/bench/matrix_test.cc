// The profile x device matrix: flag defaults, the issue-13 bars judged on
// synthetic cells, and the table, JSON and SVG built from them.
#include "bench/driver/matrix.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/bench/json_check.h"

namespace strata::bench {
namespace {

const std::vector<std::string> kEngines = {"lsm", "btree", "rocksdb"};

// One engine, both devices, both profiles; ops/s per (profile, device,
// workload) from `ops`, WA (device model) per (profile) on fillrandom.
std::vector<EngineRun> Cells(double hdd_fill_ratio, double ssd_wa_hdd, double ssd_wa_ssd) {
  std::vector<EngineRun> runs;
  for (const char* device : {"hdd", "ssd"}) {
    for (const char* profile : {"hdd", "ssd"}) {
      EngineRun run;
      run.engine = std::string("lsm ") + profile + "-profile@" + device;
      run.matrix_profile = profile;
      run.matrix_device = device;
      for (const char* w : {"fillrandom", "readrandom", "seekrandom"}) {
        WorkloadResult r;
        r.engine = run.engine;
        r.workload = w;
        r.ops = 1000;
        double ops_per_sec = 1000;
        if (std::string(device) == "hdd" && std::string(profile) == "hdd") {
          ops_per_sec = std::string(w) == "fillrandom" ? 1000 * hdd_fill_ratio
                        : std::string(w) == "readrandom" ? 950  // 0.95x: passes 0.9x
                                                         : 2000;
        }
        if (std::string(device) == "ssd" && std::string(profile) == "ssd") ops_per_sec = 1100;
        r.seconds = r.ops / ops_per_sec;
        if (std::string(w) == "fillrandom") {
          r.user_bytes_written = 1000000;
          const double wa = std::string(profile) == "hdd" ? ssd_wa_hdd : ssd_wa_ssd;
          r.modeled_write_bytes = static_cast<uint64_t>(wa * 1000000);
        }
        r.modeled_seconds = 0.5;
        run.results.push_back(r);
      }
      runs.push_back(run);
    }
  }
  return runs;
}

const MatrixBar* FindBar(const std::vector<MatrixBar>& bars, const std::string& device,
                         const std::string& workload, const std::string& what) {
  for (const MatrixBar& b : bars) {
    if (b.device == device && b.workload == workload && b.what == what) return &b;
  }
  return nullptr;
}

TEST(MatrixFlagsTest, MatrixSetsSmallDefaultsAndKeepsOnlyStrataEngines) {
  Result<BenchConfig> c = ParseBenchFlags({"--matrix", "--pace"}, kEngines);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->matrix);
  EXPECT_TRUE(c->pace);
  EXPECT_EQ(c->num, 20000u);
  EXPECT_EQ(c->read_ops(), 1000u);
  EXPECT_EQ(c->seek_nexts, 100u);
  EXPECT_EQ(c->benchmarks, (std::vector<std::string>{"fillrandom", "readrandom", "seekrandom"}));
  EXPECT_EQ(c->engines, (std::vector<std::string>{"lsm", "btree"}));
  EXPECT_EQ(c->matrix_devices, (std::vector<std::string>{"hdd", "ssd"}));

  c = ParseBenchFlags({"--matrix", "--device-model=hdd", "--num=500", "--benchmarks=fillseq"},
                      kEngines);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->matrix_devices, std::vector<std::string>{"hdd"});
  EXPECT_EQ(c->num, 500u);
  EXPECT_EQ(c->benchmarks, std::vector<std::string>{"fillseq"});

  EXPECT_TRUE(ParseBenchFlags({"--matrix", "--profile=hdd"}, kEngines).status().IsInvalidArgument());
  EXPECT_TRUE(ParseBenchFlags({"--pace"}, kEngines).status().IsInvalidArgument());
  EXPECT_TRUE(ParseBenchFlags({"--matrix", "--engines=rocksdb"}, kEngines)
                  .status()
                  .IsInvalidArgument());
  // A matrix cell's child gets --profile after --matrix: allowed there.
  c = ParseBenchFlags({"--matrix", "--profile=hdd", "--device-model=ssd", "--engines=lsm",
                       "--child_result=/tmp/x"},
                      kEngines);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->profile, "hdd");
  EXPECT_EQ(c->num, 20000u);
}

TEST(MatrixBarsTest, JudgesEachDeviceByItsOwnProfile) {
  std::vector<MatrixBar> bars = EvaluateMatrixBars(Cells(1.6, 3.0, 2.0));
  const MatrixBar* fill = FindBar(bars, "hdd", "fillrandom", "ops/s");
  ASSERT_NE(fill, nullptr);
  EXPECT_NEAR(*fill->ratio, 1.6, 1e-9);
  EXPECT_TRUE(fill->pass);
  EXPECT_TRUE(FindBar(bars, "hdd", "readrandom", "ops/s")->pass);
  EXPECT_NEAR(*FindBar(bars, "hdd", "seekrandom", "ops/s")->ratio, 2.0, 1e-9);
  EXPECT_TRUE(FindBar(bars, "ssd", "readrandom", "ops/s")->pass);  // 1.1x
  const MatrixBar* wa = FindBar(bars, "ssd", "fillrandom", "write amp");
  ASSERT_NE(wa, nullptr);
  EXPECT_NEAR(*wa->ratio, 2.0 / 3.0, 1e-9);
  EXPECT_TRUE(wa->pass);
  EXPECT_EQ(FindBar(bars, "hdd", "fillrandom", "write amp"), nullptr);  // no WA bar on hdd

  // Misses: fill at 1.4x on the hdd model, the ssd profile writing more.
  bars = EvaluateMatrixBars(Cells(1.4, 2.0, 3.0));
  EXPECT_FALSE(FindBar(bars, "hdd", "fillrandom", "ops/s")->pass);
  EXPECT_FALSE(FindBar(bars, "ssd", "fillrandom", "write amp")->pass);

  // A failed cell: no ratio, no pass.
  std::vector<EngineRun> runs = Cells(1.6, 3.0, 2.0);
  runs[1].error = "open failed";
  bars = EvaluateMatrixBars(runs);
  EXPECT_FALSE(FindBar(bars, "hdd", "fillrandom", "ops/s")->ratio.has_value());
  EXPECT_FALSE(FindBar(bars, "hdd", "fillrandom", "ops/s")->pass);
}

TEST(MatrixOutputTest, TableJsonAndSvgDrawEveryCell) {
  BenchConfig config;
  config.seek_nexts = 100;
  config.pace = true;
  const std::vector<EngineRun> runs = Cells(1.6, 3.0, 2.0);
  const std::string table = FormatMatrixTable(config, runs);
  EXPECT_NE(table.find("seek+100"), std::string::npos);
  EXPECT_NE(table.find("1.60x"), std::string::npos);
  EXPECT_NE(table.find("PASS"), std::string::npos);

  const std::string json = FormatMatrixJson(config, runs);
  EXPECT_TRUE(testcheck::JsonValidator(json).Valid()) << json;
  EXPECT_NE(json.find("\"paced\": true"), std::string::npos);

  const std::string svg = RenderMatrixSvg(config, runs);
  size_t cells = 0;
  for (size_t at = svg.find("data-profile="); at != std::string::npos;
       at = svg.find("data-profile=", at + 1)) {
    cells++;
  }
  EXPECT_EQ(cells, 3u * 4u);  // 3 workloads x (2 profiles x 2 devices)
  EXPECT_NE(svg.find("#b7e1b0"), std::string::npos);  // a held bar is green
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace strata::bench
