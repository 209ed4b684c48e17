// `strata wal dump|verify` on a clean, a torn and a corrupt log (output and
// exit statuses), and the golden segment in tests/testdata/wal whose hex dump
// FORMAT.md shows.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <utility>
#include <vector>

#include "tests/testing/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/log.h"

namespace strata::wal {
namespace {

using testing::FlipBit;
using testing::Payload;
using testing::SegmentPath;
using testing::SmallOptions;

struct CliRun {
  int exit_code = -1;
  std::string out;
};

CliRun Strata(const std::string& args, const std::string& cwd = ".") {
  CliRun run;
  const std::string cmd = fmt::format("cd {} && {} {} 2>&1", cwd, STRATA_CLI_PATH, args);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) run.out.append(buf, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::vector<RecordLocation> WriteSmallLog(const std::string& dir, int count) {
  std::unique_ptr<Log> log;
  EXPECT_TRUE(Log::Open(SmallOptions(), dir, &log).ok());
  std::vector<RecordLocation> where;
  for (int i = 1; i <= count; ++i) {
    auto loc = log->AppendWithLocation(Payload(i, 40), i == count);
    EXPECT_TRUE(loc.ok());
    where.push_back(*loc);
  }
  return where;
}

TEST(WalTool, DumpAndVerifyCleanLog) {
  strata::testing::ScratchDir dir;
  WriteSmallLog(dir.path(), 5);
  CliRun verify = Strata("wal verify " + dir.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find("ok: "), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("5 records"), std::string::npos) << verify.out;
  CliRun dump = Strata("wal dump " + SegmentPath(dir.path(), 1));
  EXPECT_EQ(dump.exit_code, 0) << dump.out;
  EXPECT_NE(dump.out.find("@4096       lsn 1        data len 40     checksum ok  \"record-1:"),
            std::string::npos)
      << dump.out;
  CliRun json = Strata("wal dump --json " + dir.path());
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(json.out.find(R"("lsn":5,"type":"data","length":40,"checksum":"ok")"),
            std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find(R"("records":5,"torn_tail":false,"corrupt":false)"), std::string::npos);
  EXPECT_EQ(Strata("wal dump --help").exit_code, 0);
  EXPECT_EQ(Strata("wal verify").exit_code, 2);  // usage error
  EXPECT_EQ(Strata("wal verify " + dir.Join("nope")).exit_code, 1);
}

TEST(WalTool, VerifyReportsFirstBadOffset) {
  strata::testing::ScratchDir dir;
  auto where = WriteSmallLog(dir.path(), 6);
  FlipBit(SegmentPath(dir.path(), 1), where[2].offset + 40, 1);
  CliRun verify = Strata("wal verify " + dir.path());
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_NE(verify.out.find(fmt::format("{} @ {}: checksum mismatch",
                                        SegmentPath(dir.path(), 1), where[2].offset)),
            std::string::npos)
      << verify.out;
  // dump lists everything it can read and then exits as Open would fail.
  CliRun dump = Strata("wal dump " + dir.path());
  EXPECT_EQ(dump.exit_code, 3);
  EXPECT_NE(dump.out.find(fmt::format("@{:<10} BAD: checksum mismatch (valid records follow at {})",
                                      where[2].offset, where[3].offset)),
            std::string::npos)
      << dump.out;
}

TEST(WalTool, TornTailIsCleanForVerify) {
  strata::testing::ScratchDir dir;
  auto where = WriteSmallLog(dir.path(), 4);
  FlipBit(SegmentPath(dir.path(), 1), where[3].offset + 40, 1);
  CliRun verify = Strata("wal verify " + dir.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find(fmt::format("torn tail at {} @ {}", SegmentPath(dir.path(), 1),
                                        where[3].offset)),
            std::string::npos)
      << verify.out;
}

// Random bytes, an empty file and a file that is not a WAL segment are no
// WAL: dump says so and exits 3 (corruption), never 0.
TEST(WalTool, DumpRefusesWhatIsNotAWal) {
  strata::testing::ScratchDir dir;
  std::mt19937_64 rng(strata::testing::TestSeed(5));
  std::string random(64 * 1024, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  const std::vector<std::pair<std::string, std::string>> files = {
      {"000001.wal", random},  // named as a segment
      {"random.bin", random},
      {"empty.wal", ""},
      {"notes.txt", "strata is a storage engine toolkit\n"},
  };
  for (const auto& [name, contents] : files) {
    SCOPED_TRACE(name);
    const std::string path = dir.Join(name);
    {
      std::FILE* f = std::fopen(path.c_str(), "wb");
      ASSERT_NE(f, nullptr);
      ASSERT_EQ(std::fwrite(contents.data(), 1, contents.size(), f), contents.size());
      std::fclose(f);
    }
    CliRun dump = Strata("wal dump " + path);
    EXPECT_EQ(dump.exit_code, 3) << dump.out;
    CliRun json = Strata("wal dump --json " + path);
    EXPECT_EQ(json.exit_code, 3) << json.out;
  }
  // A directory of random "segments" too.
  strata::testing::ScratchDir log_dir;
  {
    std::FILE* f = std::fopen(log_dir.Join("000001.wal").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(random.data(), 1, random.size(), f), random.size());
    std::fclose(f);
  }
  EXPECT_EQ(Strata("wal dump " + log_dir.path()).exit_code, 3);
}

// The golden segment: three records, as FORMAT.md shows it. Regenerate with
// STRATA_REGENERATE_GOLDEN=1 (a format change).
TEST(WalTool, GoldenSegment) {
  const std::string golden_dir = std::string(STRATA_SOURCE_DIR) + "/tests/testdata/wal";
  const std::string golden = golden_dir + "/000000000001.wal";
  const std::string hex = golden_dir + "/tiny.hex.txt";
  const std::string kGoldenRelative = "tests/testdata/wal/000000000001.wal";
  if (std::getenv("STRATA_REGENERATE_GOLDEN")) {
    strata::testing::ScratchDir dir;
    {
      std::unique_ptr<Log> log;
      ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
      for (std::string_view p : {"hello", "strata wal", ""}) ASSERT_TRUE(log->Append(p, true).ok());
    }
    std::filesystem::create_directories(golden_dir);
    std::filesystem::copy_file(SegmentPath(dir.path(), 1), golden,
                               std::filesystem::copy_options::overwrite_existing);
    CliRun dump = Strata("wal dump --hex " + kGoldenRelative, STRATA_SOURCE_DIR);
    std::FILE* f = std::fopen(hex.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(dump.out.data(), 1, dump.out.size(), f);
    std::fclose(f);
  }
  CliRun dump = Strata("wal dump --hex " + kGoldenRelative, STRATA_SOURCE_DIR);
  EXPECT_EQ(dump.exit_code, 0);
  EXPECT_EQ(dump.out, testing::ReadFile(hex)) << "format changed? see FORMAT.md";
  // The golden segment still opens and replays.
  strata::testing::ScratchDir dir;
  std::filesystem::copy_file(golden, SegmentPath(dir.path(), 1));
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(SmallOptions(), dir.path(), &log).ok());
  auto records = testing::ReplayAll(log.get());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].second, "strata wal");
}

// The version 3 golden segment: a 4 KiB chunk, so that the 33rd record
// needs a grow record. The writer must still produce these bytes exactly,
// and `wal dump` must show them (grow record included) as
// tests/testdata/wal/v3/dump.txt says. Regenerate with
// STRATA_REGENERATE_GOLDEN=1 (a format change: bump kFormatVersion).
TEST(WalTool, GoldenSegmentV3) {
  const std::string golden_dir = std::string(STRATA_SOURCE_DIR) + "/tests/testdata/wal/v3";
  const std::string golden = golden_dir + "/000000000001.wal";
  const std::string dump_file = golden_dir + "/dump.txt";
  const std::string kGoldenRelative = "tests/testdata/wal/v3/000000000001.wal";
  std::vector<std::string> payloads = {"hello"};
  for (int i = 0; i < 40; ++i) payloads.push_back(fmt::format("{:02}:", i) + std::string(93, 'a' + i % 26));
  payloads.push_back("strata wal v3");
  strata::testing::ScratchDir dir;
  {
    LogOptions options = SmallOptions();
    options.segment_chunk_bytes = 4 * kKiB;
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
    for (size_t i = 0; i < payloads.size(); ++i) {
      ASSERT_TRUE(log->Append(payloads[i], i + 1 == payloads.size()).ok());
    }
  }
  const std::string written = testing::ReadFile(SegmentPath(dir.path(), 1));
  if (std::getenv("STRATA_REGENERATE_GOLDEN")) {
    std::filesystem::create_directories(golden_dir);
    std::filesystem::copy_file(SegmentPath(dir.path(), 1), golden,
                               std::filesystem::copy_options::overwrite_existing);
    CliRun dump = Strata("wal dump " + kGoldenRelative, STRATA_SOURCE_DIR);
    std::FILE* f = std::fopen(dump_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(dump.out.data(), 1, dump.out.size(), f);
    std::fclose(f);
  }
  EXPECT_TRUE(written == testing::ReadFile(golden))
      << "the writer's bytes changed: a format change? see FORMAT.md";
  CliRun dump = Strata("wal dump " + kGoldenRelative, STRATA_SOURCE_DIR);
  EXPECT_EQ(dump.exit_code, 0);
  EXPECT_EQ(dump.out, testing::ReadFile(dump_file));
  EXPECT_NE(dump.out.find("grow len 8      checksum ok  (allocated 12288 bytes)"),
            std::string::npos)
      << dump.out;
  // The golden segment opens and replays.
  strata::testing::ScratchDir replay_dir;
  std::filesystem::copy_file(golden, SegmentPath(replay_dir.path(), 1));
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(SmallOptions(), replay_dir.path(), &log).ok());
  auto records = testing::ReplayAll(log.get());
  ASSERT_EQ(records.size(), payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) EXPECT_EQ(records[i].second, payloads[i]) << i;
}

}  // namespace
}  // namespace strata::wal
