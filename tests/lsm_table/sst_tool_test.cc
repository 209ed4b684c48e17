// `strata sst` on a golden table and on corrupt copies: output and exit codes.
// The golden table and its hex dump (quoted in lsm/FORMAT.md) are regenerated
// with STRATA_UPDATE_GOLDEN=1; otherwise a difference means a format change.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "tests/lsm_table/table_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::IKey;
using testing::Model;

const std::string kGoldenTable = std::string(STRATA_TESTDATA_DIR) + "/sst/000001.sst";
const std::string kGoldenDump = std::string(STRATA_TESTDATA_DIR) + "/sst/000001.sst.dump.txt";

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// timeout_seconds > 0 runs the command under timeout(1).
RunResult RunCli(const std::string& args, int timeout_seconds = 0) {
  const std::string cmd =
      fmt::format("{}{} {} 2>&1",
                  timeout_seconds > 0 ? fmt::format("timeout {} ", timeout_seconds) : "",
                  STRATA_CLI_PATH, args);
  RunResult result;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.out.append(buf, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The tiny table FORMAT.md walks through: three user keys, a deletion and a
// newer version, in two small data blocks, no compression.
Model TinyModel() {
  Model model;
  model[IKey("apple", 3)] = "red";
  model[IKey("apple", 1)] = "green";
  model[IKey("banana", 2, ValueType::kDeletion)] = "";
  model[IKey("cherry", 4)] = "dark";
  return model;
}

TableOptions TinyOptions() {
  TableOptions options;
  options.block_bytes = 48;
  options.block_restart_interval = 2;
  options.compression = Compression::kNone;
  options.bloom_bits_per_key = 10;
  return options;
}

std::string ReadAll(const std::string& path) {
  std::string data;
  EXPECT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), path, &data).ok()) << path;
  return data;
}

void WriteAll(const std::string& path, const std::string& data) {
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem().get(), path, data).ok()) << path;
}

TEST(SstTool, GoldenTableAndHexDump) {
  strata::testing::ScratchDir dir;
  const std::string path = dir.Join("000001.sst");
  ASSERT_TRUE(testing::BuildTable(path, TinyOptions(), TinyModel()).ok());
  const RunResult dump = RunCli("sst dump --hex " + path);
  ASSERT_EQ(dump.exit_code, 0) << dump.out;
  if (std::getenv("STRATA_UPDATE_GOLDEN") != nullptr) {
    WriteAll(kGoldenTable, ReadAll(path));
    WriteAll(kGoldenDump, dump.out);
  }
  EXPECT_EQ(ReadAll(path), ReadAll(kGoldenTable))
      << "the table bytes changed: that is a format change (bump kTableFormatVersion, update "
         "lsm/FORMAT.md, regenerate with STRATA_UPDATE_GOLDEN=1)";
  EXPECT_EQ(dump.out, ReadAll(kGoldenDump));
  // lsm/FORMAT.md quotes the hex part of the dump verbatim.
  const std::string format_md = ReadAll(std::string(STRATA_TESTDATA_DIR) + "/../../lsm/FORMAT.md");
  const std::string hex = dump.out.substr(dump.out.find("# data 0"));
  EXPECT_NE(format_md.find(hex), std::string::npos)
      << "lsm/FORMAT.md's worked example is stale: paste the new dump";
}

TEST(SstTool, DumpPropsLayoutOnGolden) {
  RunResult r = RunCli("sst dump " + kGoldenTable);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("4 entries"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("smallest: 'apple' @ 3 : put"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("largest:  'cherry' @ 4 : put"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("'banana' @ 2 : del"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("'apple' @ 1 : put => 'green' (5 bytes)"), std::string::npos) << r.out;

  r = RunCli("sst props " + kGoldenTable);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("entry_count: 4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deletion_count: 1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("largest_seq: 4\n"), std::string::npos) << r.out;

  r = RunCli("sst layout " + kGoldenTable);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("data 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("data 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("filter"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("properties"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("footer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("compression ratio"), std::string::npos) << r.out;
}

TEST(SstTool, VerifyCleanAndCorrupt) {
  strata::testing::ScratchDir dir;
  const std::string golden = ReadAll(kGoldenTable);
  WriteAll(dir.Join("000001.sst"), golden);
  RunResult r = RunCli("sst verify " + dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("OK "), std::string::npos) << r.out;

  // Flip a bit inside the first data block's value bytes.
  std::string bad = golden;
  bad[20] ^= 0x10;
  WriteAll(dir.Join("000002.sst"), bad);
  r = RunCli("sst verify " + dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("CORRUPT " + dir.Join("000002.sst") + ": 000002.sst @ 0: block checksum"),
            std::string::npos)
      << r.out;
  r = RunCli("sst verify " + dir.Join("000002.sst"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  r = RunCli("sst verify " + dir.Join("000001.sst"));
  EXPECT_EQ(r.exit_code, 0) << r.out;

  // Bad magic: other tools exit 3 with a one-line message naming file and offset.
  bad = golden;
  bad.back() ^= 0x01;
  WriteAll(dir.Join("000003.sst"), bad);
  r = RunCli("sst dump " + dir.Join("000003.sst"));
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find(fmt::format("000003.sst @ {}: bad magic", golden.size() - 8)),
            std::string::npos)
      << r.out;
  EXPECT_EQ(RunCli("sst layout " + dir.Join("000003.sst")).exit_code, 3);
  EXPECT_EQ(RunCli("sst props " + dir.Join("000003.sst")).exit_code, 3);
  EXPECT_EQ(RunCli("sst verify " + dir.Join("000003.sst")).exit_code, 1);
}

// A FIFO (open would wait for a writer forever) or a directory is no table:
// refused at once with a usage error. (`timeout` turns a hang into a failure.)
TEST(SstTool, RefusesWhatIsNotARegularFile) {
  strata::testing::ScratchDir dir;
  const std::string fifo = dir.Join("000007.sst");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const char* cmd : {"dump", "props", "layout", "verify"}) {
    SCOPED_TRACE(cmd);
    const RunResult r = RunCli(fmt::format("sst {} {}", cmd, fifo), /*timeout_seconds=*/60);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("not a regular file"), std::string::npos) << r.out;
  }
  const RunResult r = RunCli("sst dump " + dir.path(), 60);
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

TEST(SstTool, UsageAndMissingFiles) {
  EXPECT_EQ(RunCli("sst --help").exit_code, 0);
  EXPECT_EQ(RunCli("sst dump --help").exit_code, 0);
  EXPECT_EQ(RunCli("sst verify --help").exit_code, 0);
  EXPECT_EQ(RunCli("sst").exit_code, 2);
  EXPECT_EQ(RunCli("sst dump").exit_code, 2);
  EXPECT_EQ(RunCli("sst dump --bogus " + kGoldenTable).exit_code, 2);
  const RunResult r = RunCli("sst dump /nonexistent/000009.sst");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("000009.sst"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace strata::lsm
