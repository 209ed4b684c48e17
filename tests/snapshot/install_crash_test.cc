// Crash test for snapshot install: a child process installs a stream over a
// node's database and SIGKILLs itself at a seeded file system operation
// (every create, write, sync, rename, link, exchange and remove counts).
// The parent then runs the restart cleanup and checks that the node opens on
// its old state or on the complete new one, never a mix, and that no
// staging directory or temp file is left. The node alternates between two
// states, so installs over both are covered, from every kill point.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>

#include "io/posix_file_system.h"
#include "snapshot/install.h"
#include "snapshot/stream_writer.h"
#include "tests/snapshot/snapshot_test_util.h"
#include "tests/testing/killing_file_system.h"
#include "tests/testing/test_util.h"

namespace strata::snapshot::testing {
namespace {

using ::strata::testing::KillingFileSystem;
using ::strata::testing::KillSwitch;

// Child: installs `stream` into `node`, killed before op `kill_at` (0:
// never). On success writes the op count to `count_fd` and exits 0.
[[noreturn]] void ChildInstall(const std::string& kind, InstallPath path,
                               const std::string& stream, const std::string& node,
                               uint64_t kill_at, int count_fd) {
  KillSwitch kill(kill_at);
  auto posix = std::make_shared<io::PosixFileSystem>();
  Options options = SmallOptions(kind);
  options.file_system = std::make_shared<KillingFileSystem>(posix, &kill);
  std::unique_ptr<io::SequentialFile> in;
  Status s = posix->NewSequentialFile(stream, io::FileOptions{}, &in);
  if (s.ok()) s = InstallSnapshot(FileByteSource(in.get()), node, options, nullptr, path);
  if (!s.ok()) {
    fmt::print(stderr, "child install: {}\n", s.ToString());
    _exit(2);
  }
  const uint64_t count = kill.count();
  if (::write(count_fd, &count, sizeof(count)) != static_cast<ssize_t>(sizeof(count))) _exit(3);
  _exit(0);
}

class InstallCrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Builds a source database with `seed`'s writes and its stream file.
  State MakeStream(const std::string& name, uint64_t seed, int ops) {
    std::unique_ptr<Engine> db;
    Status s = strata::Open(SmallOptions(GetParam()), dir_.Join("src-" + name), &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::mt19937_64 rng(seed);
    RandomWrites(db.get(), rng, ops, 600);
    std::unique_ptr<Snapshot> snap = db->GetSnapshot();
    StreamOptions options;
    options.chunk_bytes = 2048;
    s = WriteSnapshotFile(db.get(), *snap, options, io::DefaultFileSystem().get(),
                          dir_.Join(name + ".snap"), nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return ReadState(db.get(), snap.get());
  }

  // Runs a child; returns its op count if it finished, 0 if it was killed.
  uint64_t RunChild(const std::string& stream, uint64_t kill_at) {
    const InstallPath path = path_;
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      ChildInstall(GetParam(), path, dir_.Join(stream), dir_.Join("node"), kill_at, fds[1]);
    }
    ::close(fds[1]);
    uint64_t count = 0;
    const ssize_t got = ::read(fds[0], &count, sizeof(count));
    ::close(fds[0]);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
      EXPECT_EQ(WTERMSIG(status), SIGKILL);
      return 0;
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    EXPECT_EQ(got, static_cast<ssize_t>(sizeof(count)));
    return count;
  }

  std::vector<std::string> Names() {
    std::vector<std::string> names;
    EXPECT_TRUE(io::DefaultFileSystem()->ListDir(dir_.path(), &names).ok());
    std::sort(names.begin(), names.end());
    return names;
  }

  void SigkillAtSeededPoints(InstallPath path, uint64_t default_seed);

  ::strata::testing::ScratchDir dir_;
  InstallPath path_ = InstallPath::kFastest;
};

void InstallCrashTest::SigkillAtSeededPoints(InstallPath path, uint64_t default_seed) {
  path_ = path;
  const uint64_t seed = ::strata::testing::TestSeed(default_seed);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const State a = MakeStream("a", seed, 1500);
  const State b = MakeStream("b", seed + 1, 2500);
  ASSERT_NE(a, b);
  ASSERT_EQ(RunChild("a.snap", 0) > 0, true);  // the node starts on A
  const uint64_t ops = RunChild("b.snap", 0);  // ... and moves to B
  ASSERT_GT(ops, 10u);
  const std::vector<std::string> expected_names = {"a.snap", "b.snap", "node", "src-a", "src-b"};
  std::mt19937_64 rng(seed);
  bool on_a = false;
  int killed = 0;
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    const uint64_t kill_at = 1 + rng() % (ops + ops / 8);
    SCOPED_TRACE(fmt::format("round {} kill_at {} installing {}", round, kill_at,
                             on_a ? "b" : "a"));
    if (RunChild(on_a ? "b.snap" : "a.snap", kill_at) == 0) ++killed;
    // Restart: clean up, then the node must be A or B exactly.
    ASSERT_TRUE(CleanupInstallLeftovers(io::DefaultFileSystem().get(), dir_.Join("node")).ok());
    EXPECT_EQ(Names(), expected_names);
    const State now = OpenAndReadState(GetParam(), dir_.Join("node"));
    ASSERT_TRUE(now == a || now == b) << "a mix: " << now.size() << " keys";
    on_a = now == a;
  }
  EXPECT_GT(killed, kRounds / 2);
}

TEST_P(InstallCrashTest, SigkillAtSeededPointsLeavesOldOrNewState) {
  SigkillAtSeededPoints(InstallPath::kFastest, 31);
}

TEST_P(InstallCrashTest, SigkillAtSeededPointsLeavesOldOrNewStateGenericPath) {
  SigkillAtSeededPoints(InstallPath::kGeneric, 41);
}

INSTANTIATE_TEST_SUITE_P(Kinds, InstallCrashTest, ::testing::ValuesIn(RegisteredEngineKinds()),
                         KindName);

}  // namespace
}  // namespace strata::snapshot::testing
