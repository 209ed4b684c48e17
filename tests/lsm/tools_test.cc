// `strata kv` and `strata manifest dump`, run as the real binary: output and
// exit statuses (0 ok, 1 not found, 2 usage, 3 corruption or I/O).
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>

#include "strata/limits.h"
#include "tests/testing/test_util.h"

namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
};

RunResult RunCli(const std::string& args, const std::string& stdin_text = "") {
  std::string cmd = fmt::format("{} {} 2>/dev/null", STRATA_CLI, args);
  std::string input_file;
  if (!stdin_text.empty()) {
    input_file = std::filesystem::temp_directory_path() / fmt::format("strata-in-{}", ::getpid());
    std::ofstream(input_file) << stdin_text;
    cmd += " < " + input_file;
  }
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!input_file.empty()) std::filesystem::remove(input_file);
  return r;
}

TEST(LsmToolsTest, KvCommandsAndExitStatuses) {
  strata::testing::ScratchDir dir;
  const std::string db = dir.Join("db");
  EXPECT_EQ(RunCli(fmt::format("kv {} put hello world", db)).exit_code, 0);
  RunResult get = RunCli(fmt::format("kv {} get hello", db));
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "world\n");
  EXPECT_EQ(RunCli(fmt::format("kv {} get absent", db)).exit_code, 1);
  EXPECT_EQ(RunCli(fmt::format("kv {} put -", db), "a\t1\nb\t2\nc\t3\n").exit_code, 0);
  EXPECT_EQ(RunCli(fmt::format("kv {} put -", db), "no tab here\n").exit_code, 2);
  EXPECT_EQ(RunCli(fmt::format("kv {} delete b", db)).exit_code, 0);
  EXPECT_EQ(RunCli(fmt::format("kv {} flush", db)).exit_code, 0);
  EXPECT_EQ(RunCli(fmt::format("kv {} compact", db)).exit_code, 0);
  EXPECT_EQ(RunCli(fmt::format("kv {} scan", db)).out, "a\t1\nc\t3\nhello\tworld\n");
  EXPECT_EQ(RunCli(fmt::format("kv {} scan --start b --end d", db)).out, "c\t3\n");
  // An existing directory's kind wins over --engine.
  EXPECT_EQ(RunCli(fmt::format("kv {} --engine btree get a", db)).out, "1\n");
  EXPECT_EQ(RunCli("kv").exit_code, 2);
  EXPECT_EQ(RunCli(fmt::format("kv {} put onlykey", db)).exit_code, 2);
}

TEST(LsmToolsTest, ManifestDumpAndCorruption) {
  strata::testing::ScratchDir dir;
  const std::string db = dir.Join("db");
  ASSERT_EQ(RunCli(fmt::format("kv {} put -", db), "a\t1\nb\t2\n").exit_code, 0);
  ASSERT_EQ(RunCli(fmt::format("kv {} flush", db)).exit_code, 0);
  RunResult dump = RunCli(fmt::format("manifest dump {}", db));
  EXPECT_EQ(dump.exit_code, 0);
  EXPECT_NE(dump.out.find("(CURRENT)"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("add L0 "), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("2 records"), std::string::npos) << dump.out;
  RunResult hex = RunCli(fmt::format("manifest dump --hex {}", db));
  EXPECT_NE(hex.out.find("strataMF"), std::string::npos) << hex.out;
  // Damage the first record: dump and kv both report corruption (exit 3).
  std::string manifest;
  for (const auto& e : std::filesystem::directory_iterator(db)) {
    if (e.path().filename().string().starts_with("MANIFEST-")) manifest = e.path().string();
  }
  ASSERT_FALSE(manifest.empty());
  {
    std::fstream f(manifest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);
    f.put('\x7f');
  }
  EXPECT_EQ(RunCli(fmt::format("manifest dump {}", db)).exit_code, 3);
  EXPECT_EQ(RunCli(fmt::format("kv {} get a", db)).exit_code, 3);
}

// Name, size and modification time of every file under `root`.
using FileState = std::map<std::string, std::tuple<uint64_t, int64_t>>;
FileState DirectoryState(const std::string& root) {
  FileState state;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    const auto size = e.is_regular_file() ? e.file_size() : 0;
    state[e.path().string()] = {size, e.last_write_time().time_since_epoch().count()};
  }
  return state;
}

// get, scan and stats never create a database, and on an existing one they
// change nothing (read-only open: no WAL segment, manifest, LOG or KIND).
TEST(LsmToolsTest, ReadCommandsNeverCreateOrWrite) {
  strata::testing::ScratchDir dir;
  const std::string missing = dir.Join("missing");
  EXPECT_EQ(RunCli(fmt::format("kv {} get a", missing)).exit_code, 1);
  EXPECT_EQ(RunCli(fmt::format("kv {} scan", missing)).exit_code, 1);
  EXPECT_EQ(RunCli(fmt::format("kv {} stats", missing)).exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(missing));

  const std::string db = dir.Join("db");
  ASSERT_EQ(RunCli(fmt::format("kv {} put -", db), "a\t1\nb\t2\n").exit_code, 0);
  ASSERT_EQ(RunCli(fmt::format("kv {} flush", db)).exit_code, 0);
  ASSERT_EQ(RunCli(fmt::format("kv {} put c 3", db)).exit_code, 0);  // only in the WAL
  const FileState before = DirectoryState(db);
  EXPECT_EQ(RunCli(fmt::format("kv {} get c", db)).out, "3\n");
  EXPECT_EQ(RunCli(fmt::format("kv {} scan", db)).out, "a\t1\nb\t2\nc\t3\n");
  EXPECT_EQ(RunCli(fmt::format("kv {} stats", db)).exit_code, 0);
  EXPECT_EQ(RunCli(fmt::format("kv {} get absent", db)).exit_code, 1);
  EXPECT_EQ(DirectoryState(db), before);
}

TEST(LsmToolsTest, ScanLimitMustNotBeNegative) {
  strata::testing::ScratchDir dir;
  const std::string db = dir.Join("db");
  ASSERT_EQ(RunCli(fmt::format("kv {} put -", db), "a\t1\nb\t2\n").exit_code, 0);
  EXPECT_EQ(RunCli(fmt::format("kv {} scan --limit -5", db)).exit_code, 2);
  EXPECT_EQ(RunCli(fmt::format("kv {} scan --limit 1", db)).out, "a\t1\n");
}

// The documented maxima go through the CLI: a key of kKeyBytesMax with a
// value of kValueBytesMax (through stdin: an argument is limited to 128 KiB);
// one byte more is a usage error.
TEST(LsmToolsTest, PutStoresTheDocumentedMaximum) {
  strata::testing::ScratchDir dir;
  const std::string db = dir.Join("db");
  const std::string key(strata::kKeyBytesMax, 'k');
  std::string value(strata::kValueBytesMax, 'v');
  value[0] = 'V';
  ASSERT_EQ(RunCli(fmt::format("kv {} put -", db), key + "\t" + value + "\n").exit_code, 0);
  RunResult get = RunCli(fmt::format("kv {} get {}", db, key));
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_TRUE(get.out == value + "\n") << get.out.size();
  EXPECT_EQ(RunCli(fmt::format("kv {} put -", db), key + "\t" + value + "v\n").exit_code, 2);
  EXPECT_EQ(RunCli(fmt::format("kv {} put -", db), key + "k\tv\n").exit_code, 2);
}

// Records that each decode can still make a manifest Open refuses (here it
// names a table that is gone): dump exits as Open fails, not 0.
TEST(LsmToolsTest, ManifestDumpFailsWhereOpenFails) {
  strata::testing::ScratchDir dir;
  const std::string db = dir.Join("db");
  ASSERT_EQ(RunCli(fmt::format("kv {} put -", db), "a\t1\nb\t2\n").exit_code, 0);
  ASSERT_EQ(RunCli(fmt::format("kv {} flush", db)).exit_code, 0);
  ASSERT_EQ(RunCli(fmt::format("manifest dump {}", db)).exit_code, 0);
  int removed = 0;
  for (const auto& e : std::filesystem::directory_iterator(db)) {
    if (e.path().extension() == ".sst") removed += std::filesystem::remove(e.path()) ? 1 : 0;
  }
  ASSERT_EQ(removed, 1);
  const int open_exit = RunCli(fmt::format("kv {} get a", db)).exit_code;
  EXPECT_NE(open_exit, 0);
  RunResult dump = RunCli(fmt::format("manifest dump {}", db));
  EXPECT_EQ(dump.exit_code, open_exit);
  EXPECT_NE(dump.out.find("add L0 "), std::string::npos) << dump.out;  // listed first
}

}  // namespace

// The disk profile: `kv stats` shows the decision stored at creation,
// `io probe` the stored one and a fresh detection with the probe's figures.
TEST(LsmToolsTest, ProfileShownByStatsAndProbe) {
  ::unsetenv("STRATA_PROFILE");
  strata::testing::ScratchDir dir;
  const std::string db = dir.Join("db");
  ASSERT_EQ(RunCli(fmt::format("kv {} put k v", db)).exit_code, 0);
  const RunResult stats = RunCli(fmt::format("kv {} stats", db));
  EXPECT_EQ(stats.exit_code, 0);
  EXPECT_NE(stats.out.find("\nprofile.source stored\n"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("\nprofile.reason auto: "), std::string::npos) << stats.out;
  const RunResult probe = RunCli(fmt::format("io probe {}", db));
  EXPECT_EQ(probe.exit_code, 0);
  EXPECT_EQ(probe.out.rfind(fmt::format("stored in {}/PROFILE:\nprofile ", db), 0), 0u)
      << probe.out;
  EXPECT_NE(probe.out.find("detected now:\nprofile "), std::string::npos) << probe.out;
  EXPECT_NE(probe.out.find("profile.probe.random_read_us "), std::string::npos) << probe.out;
  // A damaged PROFILE: stats refuses the database (exit 3), naming the file.
  std::ofstream(db + "/PROFILE", std::ios::app) << "x";
  EXPECT_EQ(RunCli(fmt::format("kv {} stats", db)).exit_code, 3);
}
