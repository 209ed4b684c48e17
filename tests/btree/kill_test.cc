// SIGKILL test: a child process writes synced batches while another thread
// of it checkpoints in a loop, and reports each acknowledged batch over a
// pipe; the parent SIGKILLs it at a seeded point (often inside a
// checkpoint), reopens, and checks that every acknowledged batch is there,
// that no batch is half-applied and that the file passes the checker. Four
// rounds on the same directory, so recovery of recovered state is covered.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "tests/btree/btree_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::btree {
namespace {

constexpr int kKeysPerBatch = 4;

std::string BatchKey(uint64_t batch, int j) { return fmt::format("b{:08}-{}", batch, j); }
std::string BatchValue(uint64_t batch, int j) {
  return fmt::format("v{}-{}-{}", batch, j, std::string((batch * 7 + j) % 200, 'p'));
}

Options KillOptions() {
  Options o = testing::TinyOptions(512);
  o.memtable_bytes = 16 * 1024;
  return o;
}

[[noreturn]] void ChildWriter(const std::string& dir, uint64_t first, int ack_fd) {
  std::unique_ptr<Engine> db;
  Status s = strata::Open(KillOptions(), dir, &db);
  if (!s.ok()) {
    fmt::print(stderr, "child open: {}\n", s.ToString());
    _exit(2);
  }
  std::atomic<bool> stop{false};
  std::thread checkpointer([&] {
    while (!stop.load()) {
      if (!db->Flush().ok()) _exit(3);
    }
  });
  for (uint64_t b = first;; ++b) {
    WriteBatch batch;
    for (int j = 0; j < kKeysPerBatch; ++j) {
      if (!batch.Put(BatchKey(b, j), BatchValue(b, j)).ok()) _exit(4);
    }
    if (!batch.Put("pair-a", std::to_string(b)).ok()) _exit(4);
    if (!batch.Put("pair-b", std::to_string(b)).ok()) _exit(4);
    // Unsynced noise between the synced batches (may be lost, as a suffix).
    if (!db->Put(WriteOptions{}, fmt::format("noise{:03}", b % 500), std::string(b % 300, 'n')).ok()) {
      _exit(5);
    }
    s = db->Write(WriteOptions{true}, batch);
    if (!s.ok()) {
      fmt::print(stderr, "child write: {}\n", s.ToString());
      _exit(5);
    }
    char buf[8];
    std::memcpy(buf, &b, sizeof(b));
    if (::write(ack_fd, buf, sizeof(buf)) != static_cast<ssize_t>(sizeof(buf))) _exit(6);
  }
}

TEST(BtreeKillTest, AcknowledgedSyncBatchesSurviveSigkill) {
  const uint64_t seed = strata::testing::TestSeed(41);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  uint64_t next_batch = 1;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      ChildWriter(dir.path(), next_batch, fds[1]);
    }
    ::close(fds[1]);
    const uint64_t kill_after = 20 + rng() % 300;
    std::set<uint64_t> acked;
    auto read_ack = [&] {
      uint64_t b = 0;
      const ssize_t n = ::read(fds[0], &b, sizeof(b));
      if (n != static_cast<ssize_t>(sizeof(b))) return false;
      acked.insert(b);
      return true;
    };
    while (acked.size() < kill_after && read_ack()) {
    }
    ::kill(pid, SIGKILL);
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    while (read_ack()) {
    }
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with " << WEXITSTATUS(wstatus);
    ASSERT_FALSE(acked.empty());
    const uint64_t acked_max = *acked.rbegin();

    std::unique_ptr<Engine> db;
    Status s = strata::Open(KillOptions(), dir.path(), &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::string a, b;
    ASSERT_TRUE(db->Get(ReadOptions{}, "pair-a", &a).ok());
    ASSERT_TRUE(db->Get(ReadOptions{}, "pair-b", &b).ok());
    ASSERT_EQ(a, b) << "half batch";
    const uint64_t last = std::stoull(a);
    ASSERT_GE(last, acked_max) << "acknowledged batch lost";
    for (uint64_t batch = next_batch; batch <= last; ++batch) {
      for (int j = 0; j < kKeysPerBatch; ++j) {
        std::string v;
        ASSERT_TRUE(db->Get(ReadOptions{}, BatchKey(batch, j), &v).ok()) << batch;
        ASSERT_EQ(v, BatchValue(batch, j));
      }
    }
    std::string v;
    EXPECT_TRUE(db->Get(ReadOptions{}, BatchKey(last + 1, 0), &v).IsNotFound());
    ASSERT_TRUE(db->Flush().ok());
    const Status c = testing::CheckDir(dir.path());
    ASSERT_TRUE(c.ok()) << c.ToString();
    next_batch = last + 1;
  }
}

}  // namespace
}  // namespace strata::btree
