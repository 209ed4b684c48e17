// Crash test: a child process writes synced batches (and keeps flushes and
// compactions running) and reports each acknowledged batch over a pipe; the
// parent SIGKILLs it at a seeded point, reopens the database and checks that
// every acknowledged batch is there and that no batch is half-applied. Then
// it repeats on the same directory, so recovery after a crash during
// recovery-produced state is covered too.
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

#include "strata/engine.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

constexpr int kKeysPerBatch = 5;

std::string BatchKey(uint64_t batch, int j) { return fmt::format("b{:08}-{}", batch, j); }
std::string BatchValue(uint64_t batch, int j) {
  return fmt::format("v{}-{}-{}", batch, j, std::string(60 + (batch * 7 + j) % 90, 'p'));
}

// Child: never returns. Writes batches first, first+1, ... with sync.
[[noreturn]] void ChildWriter(const std::string& dir, CompactionStyle style, uint64_t first,
                              int ack_fd) {
  std::unique_ptr<Engine> db;
  Status s = strata::Open(testing::TinyOptions(style), dir, &db);
  if (!s.ok()) {
    fmt::print(stderr, "child open: {}\n", s.ToString());
    _exit(2);
  }
  std::atomic<bool> stop{false};
  // Keep compactions (and with them flushes) going all the time.
  std::thread compactor([&] {
    while (!stop.load()) {
      if (!db->CompactAll().ok()) _exit(3);
    }
  });
  for (uint64_t b = first;; ++b) {
    WriteBatch batch;
    for (int j = 0; j < kKeysPerBatch; ++j) {
      if (!batch.Put(BatchKey(b, j), BatchValue(b, j)).ok()) _exit(4);
    }
    // Overwritten by every batch: both halves must always agree.
    if (!batch.Put("pair-a", std::to_string(b)).ok()) _exit(4);
    if (!batch.Put("pair-b", std::to_string(b)).ok()) _exit(4);
    if (b % 3 == 0 && !batch.Delete(BatchKey(b - 1, 0)).ok()) _exit(4);
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

// Batch b is visible whole: every key, and the delete of b-1's first key
// done by b when b % 3 == 0 is judged by whether b+1 applied.
int PresentKeys(Engine* db, uint64_t b) {
  int present = 0;
  for (int j = 0; j < kKeysPerBatch; ++j) {
    std::string value;
    Status s = db->Get(ReadOptions{}, BatchKey(b, j), &value);
    if (s.ok()) {
      EXPECT_EQ(value, BatchValue(b, j));
      ++present;
    } else {
      EXPECT_TRUE(s.IsNotFound()) << s.ToString();
    }
  }
  return present;
}

void CrashAndVerify(CompactionStyle style, uint64_t seed) {
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  uint64_t next_batch = 1;
  uint64_t acked_max = 0;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      ChildWriter(dir.path(), style, next_batch, fds[1]);
    }
    ::close(fds[1]);
    const uint64_t kill_after = 20 + rng() % 400;
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
    acked_max = *acked.rbegin();

    std::unique_ptr<Engine> db;
    Status s = strata::Open(testing::TinyOptions(style), dir.path(), &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    // Every acknowledged batch is there; later ones are whole or absent.
    // Batch b (b % 3 == 0) also deletes the first key of batch b-1.
    const uint64_t end = acked_max + 64;
    std::vector<int> present(end + 2, 0);
    for (uint64_t b = next_batch; b <= end + 1; ++b) present[b] = PresentKeys(db.get(), b);
    uint64_t last_applied = 0;
    for (uint64_t b = next_batch; b <= end; ++b) {
      const bool next_deletes_first = (b + 1) % 3 == 0 && present[b + 1] > 0;
      const int expected_full = next_deletes_first ? kKeysPerBatch - 1 : kKeysPerBatch;
      if (b <= acked_max) {
        ASSERT_EQ(present[b], expected_full) << "acknowledged batch " << b << " lost";
      }
      if (b > acked_max && present[b] != 0) {
        ASSERT_EQ(present[b], expected_full) << "batch " << b << " torn";
      }
      if (present[b] > 0) last_applied = b;
    }
    std::string a, bval;
    ASSERT_TRUE(db->Get(ReadOptions{}, "pair-a", &a).ok());
    ASSERT_TRUE(db->Get(ReadOptions{}, "pair-b", &bval).ok());
    EXPECT_EQ(a, bval);
    EXPECT_EQ(a, std::to_string(last_applied));
    next_batch = last_applied + 1;
  }
}

TEST(LsmCrashTest, SigkillDuringFlushAndCompactionLeveled) {
  for (uint64_t seed : {1, 2}) {
    CrashAndVerify(CompactionStyle::kLeveled, strata::testing::TestSeed(seed));
  }
}

TEST(LsmCrashTest, SigkillDuringFlushAndCompactionSizeTiered) {
  for (uint64_t seed : {11, 12}) {
    CrashAndVerify(CompactionStyle::kSizeTiered, strata::testing::TestSeed(seed));
  }
}

}  // namespace
}  // namespace strata::lsm
