// A tiny run of every workload on every engine built into this binary,
// in-process, and one run through the strata CLI with a child process per
// engine and every output format.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bench/driver/adapter.h"
#include "bench/driver/runner.h"
#include "tests/bench/json_check.h"
#include "tests/testing/test_util.h"

namespace strata::bench {
namespace {

constexpr uint64_t kNum = 2000;
constexpr uint64_t kEntryBytes = 16 + 100;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class BenchEndToEndTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BenchEndToEndTest, EveryWorkloadRuns) {
  const std::string engine = GetParam();
  testing::ScratchDir dir;
  const std::string props = dir.Join("mix.properties");
  std::ofstream(props) << "readproportion=0.5\nupdateproportion=0.3\ninsertproportion=0.1\n"
                          "scanproportion=0.1\nrequestdistribution=uniform\nmaxscanlength=5\n";
  Result<BenchConfig> parsed = ParseBenchFlags(
      {"--num=" + std::to_string(kNum), "--db=" + dir.path(), "--engines=" + engine,
       "--benchmarks=fillseq,fillrandom,overwrite,fillsync,readrandom,readseq,seekrandom,"
       "readwhilewriting,ycsb-a,ycsb-b,ycsb-c,ycsb-d,ycsb-e,ycsb-f,ycsb-custom,deleterandom",
       "--property_file=" + props, "--seek_nexts=3", "--threads=2", "--seed=7"},
      BuiltEngines());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  // ycsb-custom appears twice (listed and implied by --property_file); keep one.
  parsed->benchmarks.pop_back();
  const EngineRun run = RunEngine(*parsed, engine, false);
  ASSERT_EQ(run.error, "");
  EXPECT_FALSE(run.settings.empty());
  std::map<std::string, WorkloadResult> by_name;
  for (const WorkloadResult& r : run.results) {
    EXPECT_GT(r.ops, 0u) << r.workload;
    EXPECT_EQ(r.latency.count(), r.ops) << r.workload;
    EXPECT_GT(r.peak_rss_bytes, 0u) << r.workload;
    EXPECT_GT(r.disk_bytes, 0u) << r.workload;
    by_name[r.workload] = r;
  }
  ASSERT_EQ(by_name.size(), 16u);
  EXPECT_EQ(by_name["fillseq"].ops, kNum);
  EXPECT_EQ(by_name["fillseq"].user_bytes_written, kNum * kEntryBytes);
  EXPECT_EQ(by_name["fillseq"].live_bytes, kNum * kEntryBytes);
  EXPECT_EQ(by_name["fillsync"].ops, 2u);  // num / 1000, as db_bench
  // Every key was written, so every random read finds its key, and a full
  // scan sees every key.
  EXPECT_EQ(by_name["readrandom"].found, kNum);
  EXPECT_EQ(by_name["readseq"].ops, kNum);
  EXPECT_EQ(by_name["seekrandom"].found, kNum);
  EXPECT_GT(by_name["seekrandom"].bytes, 3 * kNum * kEntryBytes);  // 1 + 3 nexts, near the end fewer
  EXPECT_EQ(by_name["ycsb-c"].found, kNum);
  EXPECT_EQ(by_name["ycsb-c"].user_bytes_written, 0u);
  // YCSB-D inserts ~5% of its ops as new records; E too.
  const double d_inserts =
      static_cast<double>(by_name["ycsb-d"].live_bytes) / kEntryBytes - kNum;
  EXPECT_NEAR(d_inserts, 0.05 * kNum, 5 * std::sqrt(0.05 * kNum));
  // YCSB-E: scans of uniform length 1..100 read ~50 entries on average.
  const double e_entries_per_scan = static_cast<double>(by_name["ycsb-e"].bytes) / kEntryBytes /
                                    (0.95 * by_name["ycsb-e"].ops);
  EXPECT_GT(e_entries_per_scan, 35);
  EXPECT_LT(e_entries_per_scan, 60);
  // deleterandom removes ~63% (1 - 1/e) of the keys.
  const double live_after =
      static_cast<double>(by_name["deleterandom"].live_bytes) / kEntryBytes;
  const double total_before = static_cast<double>(by_name["ycsb-custom"].live_bytes) / kEntryBytes;
  EXPECT_NEAR(1 - live_after / total_before, 1 - std::exp(-1.0 * kNum / total_before), 0.05);
  EXPECT_TRUE(by_name["fillrandom"].write_amp_io().has_value());
}

INSTANTIATE_TEST_SUITE_P(BuiltEngines, BenchEndToEndTest, ::testing::ValuesIn(BuiltEngines()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// The engine kind tests/bench/log_map_engine.cc registers in this binary only.
constexpr const char* kTestKind = "test-logmap";

TEST(BenchStrataAdapterTest, RunsThroughTheDeviceModelAndProfile) {
  testing::ScratchDir dir;
  for (const char* model : {"hdd", "ssd"}) {
    SCOPED_TRACE(model);
    Result<BenchConfig> parsed = ParseBenchFlags(
        {"--num=500", "--db=" + dir.path(), std::string("--engines=") + kTestKind,
         "--benchmarks=fillrandom,fillsync,readrandom", "--profile=hdd",
         std::string("--device-model=") + model},
        BuiltEngines());
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const EngineRun run = RunEngine(*parsed, kTestKind, false);
    ASSERT_EQ(run.error, "");
    EXPECT_NE(run.settings.find("profile=hdd (explicit)"), std::string::npos)
        << run.settings;
    EXPECT_NE(run.settings.find(std::string("device model=") + model), std::string::npos);
    ASSERT_EQ(run.results.size(), 3u);
    // Writes and syncs cost modeled time; the engine's own counters give WA.
    EXPECT_GT(run.results[0].modeled_seconds.value_or(0), 0);
    EXPECT_GT(run.results[1].modeled_seconds.value_or(0), 0);
    EXPECT_GT(run.results[0].write_amp_engine().value_or(0), 1.0);
  }
  // --profile=auto says what it picked and why.
  Result<BenchConfig> parsed = ParseBenchFlags(
      {"--num=10", "--db=" + dir.path(), std::string("--engines=") + kTestKind,
       "--benchmarks=fillseq"},
      BuiltEngines());
  ASSERT_TRUE(parsed.ok());
  const EngineRun run = RunEngine(*parsed, kTestKind, false);
  ASSERT_EQ(run.error, "");
  EXPECT_NE(run.settings.find("(auto: "), std::string::npos) << run.settings;
}

TEST(BenchEndToEndCliTest, ChildProcessPerEngineAndAllOutputs) {
  testing::ScratchDir dir;
  std::vector<std::string> engines = BuiltEngines();
  std::erase(engines, std::string(kTestKind));
  ASSERT_FALSE(engines.empty());
  std::string list;
  for (const auto& e : engines) list += (list.empty() ? "" : ",") + e;
  const std::string cmd = fmt::format(
      "{} bench --num=1000 --benchmarks=fillrandom,readrandom --engines={} --baseline={} "
      "--db={} --json={} --csv={} --plot={} > {} 2>&1",
      STRATA_CLI_PATH, list, engines.front(), dir.Join("db"), dir.Join("out.json"),
      dir.Join("out.csv"), dir.Join("plots"), dir.Join("stdout.txt"));
  const int status = std::system(cmd.c_str());
  const std::string out = ReadAll(dir.Join("stdout.txt"));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  for (const auto& e : engines) EXPECT_NE(out.find("\n" + e + " "), std::string::npos) << out;
  EXPECT_NE(out.find("x base"), std::string::npos);
  const std::string json = ReadAll(dir.Join("out.json"));
  EXPECT_TRUE(testcheck::JsonValidator(json).Valid()) << json;
  EXPECT_NE(json.find("\"baseline_ratio\": 1,"), std::string::npos) << json;
  const std::string csv = ReadAll(dir.Join("out.csv"));
  EXPECT_EQ(static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')),
            1 + 2 * engines.size());
  for (const char* chart : {"throughput-fillrandom.svg", "latency-readrandom.svg"}) {
    std::vector<testcheck::XmlElement> elements;
    EXPECT_TRUE(testcheck::WalkXml(ReadAll(dir.Join(std::string("plots/") + chart)), &elements));
    EXPECT_EQ(std::count_if(elements.begin(), elements.end(),
                            [](const auto& e) { return e.name == "polyline"; }),
              static_cast<long>(engines.size()));
  }
}


// --matrix --pace through the CLI: four cells per engine (profile x device),
// each in its own child process and directory, the matrix table, its JSON
// (cells and bars) and matrix.svg.
TEST(BenchEndToEndCliTest, PacedMatrixRunsEveryCell) {
  testing::ScratchDir dir;
  const std::string cmd = fmt::format(
      "{} bench --matrix --pace --engines=lsm --num=400 --reads=20 --seek_nexts=10 --db={} "
      "--json={} --plot={} > {} 2>&1",
      STRATA_CLI_PATH, dir.Join("db"), dir.Join("matrix.json"), dir.Join("plots"),
      dir.Join("stdout.txt"));
  const int status = std::system(cmd.c_str());
  const std::string out = ReadAll(dir.Join("stdout.txt"));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("Profile x device matrix (paced"), std::string::npos) << out;
  EXPECT_NE(out.find("seek+10"), std::string::npos) << out;
  for (const char* cell : {"hdd-hdd", "hdd-ssd", "ssd-hdd", "ssd-ssd"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.Join(std::string("db/") + cell + "/lsm"))) << cell;
  }
  const std::string json = ReadAll(dir.Join("matrix.json"));
  EXPECT_TRUE(testcheck::JsonValidator(json).Valid()) << json;
  // 4 cells x 3 workloads, each with its modeled device time.
  size_t cells = 0;
  for (size_t at = json.find("\"profile\": "); at != std::string::npos;
       at = json.find("\"profile\": ", at + 1)) {
    cells++;
  }
  EXPECT_EQ(cells, 12u) << json;
  EXPECT_EQ(json.find("\"modeled_seconds\": null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"bars\": ["), std::string::npos);
  std::vector<testcheck::XmlElement> elements;
  EXPECT_TRUE(testcheck::WalkXml(ReadAll(dir.Join("plots/matrix.svg")), &elements));
  EXPECT_EQ(std::count_if(elements.begin(), elements.end(),
                          [](const auto& e) { return e.name == "rect"; }),
            1 + 12);  // the background and one per cell
}

}  // namespace
}  // namespace strata::bench
