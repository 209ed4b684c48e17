// `strata snapshot create|verify|install`, run as the real binary: output,
// pipes and exit statuses (0 ok, 1 check failed, 2 usage, 3 corruption/IO).
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/testing/test_util.h"

namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command line in which STRATA stands for the binary.
RunResult Shell(std::string cmd) {
  for (size_t at; (at = cmd.find("STRATA")) != std::string::npos;) cmd.replace(at, 6, STRATA_CLI);
  RunResult r;
  FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(SnapshotToolsTest, CreateVerifyInstallAndExitStatuses) {
  strata::testing::ScratchDir dir;
  const std::string src = dir.Join("src");
  ASSERT_EQ(Shell(fmt::format("printf 'a\\t1\\nb\\t2\\nc\\t3\\n' | STRATA kv {} put -", src))
                .exit_code,
            0);
  const std::string file = dir.Join("s.snap");
  RunResult create = Shell(fmt::format("STRATA snapshot create {} {}", src, file));
  ASSERT_EQ(create.exit_code, 0);
  EXPECT_NE(create.out.find("3 entries"), std::string::npos) << create.out;
  RunResult verify = Shell(fmt::format("STRATA snapshot verify {}", file));
  EXPECT_EQ(verify.exit_code, 0);
  EXPECT_NE(verify.out.find("OK"), std::string::npos) << verify.out;
  EXPECT_EQ(Shell(fmt::format("STRATA snapshot verify - < {}", file)).exit_code, 0);

  // Install from a file, then through a pipe over the installed copy.
  EXPECT_EQ(Shell(fmt::format("STRATA snapshot install {} {}", file, dir.Join("dst"))).exit_code,
            0);
  EXPECT_EQ(Shell(fmt::format("STRATA kv {} get b", dir.Join("dst"))).out, "2\n");
  ASSERT_EQ(Shell(fmt::format("STRATA kv {} put d 4", src)).exit_code, 0);
  RunResult piped = Shell(fmt::format("STRATA snapshot create {} - | STRATA snapshot install - {}",
                                    src, dir.Join("dst")));
  EXPECT_EQ(piped.exit_code, 0);
  EXPECT_NE(piped.out.find("replaced"), std::string::npos) << piped.out;
  EXPECT_EQ(Shell(fmt::format("STRATA kv {} get d", dir.Join("dst"))).out, "4\n");

  // A flipped bit: verify fails (1) naming the chunk; install refuses (3).
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 50u);
  bytes[45] ^= 4;  // inside chunk 0 (the header is 36 bytes)
  std::ofstream(dir.Join("bad.snap"), std::ios::binary) << bytes;
  RunResult bad = Shell(fmt::format("STRATA snapshot verify {}", dir.Join("bad.snap")));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("chunk 0"), std::string::npos) << bad.out;
  EXPECT_EQ(
      Shell(fmt::format("STRATA snapshot install {} {}", dir.Join("bad.snap"), dir.Join("dst")))
          .exit_code,
      3);
  EXPECT_EQ(Shell(fmt::format("STRATA kv {} get d", dir.Join("dst"))).out, "4\n");  // untouched

  RunResult checkpoint =
      Shell(fmt::format("STRATA snapshot checkpoint {} {}", src, dir.Join("ckpt")));
  EXPECT_EQ(checkpoint.exit_code, 0);
  EXPECT_NE(checkpoint.out.find("linked"), std::string::npos) << checkpoint.out;
  EXPECT_EQ(Shell(fmt::format("STRATA kv {} get d", dir.Join("ckpt"))).out, "4\n");
  EXPECT_EQ(Shell(fmt::format("STRATA snapshot checkpoint {} {}", src, dir.Join("ckpt")))
                .exit_code,
            2);  // the target exists

  EXPECT_EQ(Shell("STRATA snapshot verify").exit_code, 2);  // usage
  EXPECT_EQ(Shell(fmt::format("STRATA snapshot verify {}", dir.Join("missing"))).exit_code, 1);
}

}  // namespace
