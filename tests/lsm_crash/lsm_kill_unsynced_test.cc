// Writes without sync survive a process crash: a child process Puts 5,000
// small keys with sync=false, reports each acknowledged Put over a pipe and
// is SIGKILLed (once idle after the last Put, and at seeded points midway);
// after reopening, every acknowledged key is there. Only a machine crash may
// lose writes without sync (Options::wal_buffer_bytes trades that away).
// Runs for every registered engine kind.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "io/file_system.h"
#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

constexpr uint64_t kPuts = 5000;

std::string Key(uint64_t i) { return fmt::format("key{:08}", i); }
std::string Value(uint64_t i) { return fmt::format("value{}", i); }

Options KindOptions(const std::string& kind) {
  Options o = testing::TinyOptions();
  o.engine = kind;
  return o;
}

// Child: Puts keys first..first+kPuts-1 without sync, acknowledging each
// one, then waits to be killed.
[[noreturn]] void ChildWriter(const Options& options, const std::string& dir, uint64_t first,
                              int ack_fd) {
  std::unique_ptr<Engine> db;
  Status s = strata::Open(options, dir, &db);
  if (!s.ok()) _exit(2);
  for (uint64_t i = first; i < first + kPuts; ++i) {
    if (!db->Put(WriteOptions{}, Key(i), Value(i)).ok()) _exit(3);
    if (::write(ack_fd, &i, sizeof(i)) != static_cast<ssize_t>(sizeof(i))) _exit(4);
  }
  while (true) ::pause();
}

// Runs one child from `first` and kills it after `kill_after` acknowledged
// Puts (kPuts: once it is idle). Returns how many were acknowledged.
uint64_t RunAndKill(const Options& options, const std::string& dir, uint64_t first,
                    uint64_t kill_after) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ChildWriter(options, dir, first, fds[1]);
  }
  ::close(fds[1]);
  uint64_t acked = 0;
  uint64_t i = 0;
  while (acked < kill_after && ::read(fds[0], &i, sizeof(i)) == static_cast<ssize_t>(sizeof(i))) {
    EXPECT_EQ(i, first + acked);
    ++acked;
  }
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  while (::read(fds[0], &i, sizeof(i)) == static_cast<ssize_t>(sizeof(i))) ++acked;
  ::close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
  return acked;
}

class KillUnsyncedTest : public ::testing::TestWithParam<std::string> {};

// Four rounds of RunAndKill on `db_dir`, each followed by a check that every
// acknowledged key is there.
void KillRounds(const Options& options, const std::string& db_dir) {
  const uint64_t seed = strata::testing::TestSeed(7);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  uint64_t first = 0;
  std::vector<std::pair<uint64_t, uint64_t>> acked_ranges;  // [begin, end)
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    const uint64_t kill_after = round == 0 ? kPuts : 1 + rng() % kPuts;
    const uint64_t acked = RunAndKill(options, db_dir, first, kill_after);
    ASSERT_GE(acked, kill_after);
    acked_ranges.emplace_back(first, first + acked);
    std::unique_ptr<Engine> db;
    Status s = strata::Open(options, db_dir, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    uint64_t missing = 0;
    uint64_t total = 0;
    for (const auto& [begin, end] : acked_ranges) {
      for (uint64_t i = begin; i < end; ++i) {
        if (testing::GetOrStatus(db.get(), Key(i)) != Value(i)) ++missing;
      }
      total += end - begin;
    }
    ASSERT_EQ(missing, 0u) << "of " << total << " acknowledged writes";
    first += kPuts;  // a later round's keys never collide with a lost tail
  }
}

TEST_P(KillUnsyncedTest, AcknowledgedWritesWithoutSyncSurviveSigkill) {
  strata::testing::ScratchDir dir;
  KillRounds(KindOptions(GetParam()), dir.path());
}

// The same with the WAL in a directory of its own (Options::wal_dir).
TEST_P(KillUnsyncedTest, AcknowledgedWritesSurviveSigkillWithWalDir) {
  strata::testing::ScratchDir dir;
  Options options = KindOptions(GetParam());
  options.wal_dir = dir.Join("separate-wal");
  KillRounds(options, dir.Join("db"));
  std::vector<std::string> names;
  ASSERT_TRUE(io::DefaultFileSystem()->ListDir(options.wal_dir, &names).ok());
  bool segment = false;
  for (const auto& n : names) segment = segment || n.ends_with(".wal");
  EXPECT_TRUE(segment);
  EXPECT_FALSE(io::DefaultFileSystem()->FileExists(dir.Join("db/wal")));
}

INSTANTIATE_TEST_SUITE_P(Kinds, KillUnsyncedTest,
                         ::testing::ValuesIn(strata::RegisteredEngineKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace strata::lsm
