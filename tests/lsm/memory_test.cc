// Memory budget of the LSM engine: Options::memtable_bytes bounds all
// memtables together (active and immutable), and a writer that would break
// it waits for the flush; the memtable arena hands out and counts kernel
// pages.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "io/file_system.h"
#include "lsm/arena.h"
#include "lsm/db_impl.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::GetOrStatus;
using testing::Property;
using testing::TinyOptions;

size_t PageBytes() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

// Forwards to the default file system, except that creating a table file
// (the first step of every flush) waits until the gate opens: a flush that
// takes as long as the test wants.
class GatedFileSystem final : public io::FileSystem {
 public:
  explicit GatedFileSystem(std::shared_ptr<io::FileSystem> base) : base_(std::move(base)) {}

  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Returns once a table file creation is waiting at the closed gate.
  void WaitForBlockedTableWrite() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return blocked_ > 0; });
  }

  Status NewWritableFile(const std::string& path, const io::FileOptions& options,
                         std::unique_ptr<io::WritableFile>* file) override {
    if (path.ends_with(".sst")) {
      std::unique_lock lock(mu_);
      ++blocked_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
      --blocked_;
    }
    return base_->NewWritableFile(path, options, file);
  }
  Status ReopenWritableFile(const std::string& path, const io::FileOptions& options,
                            std::unique_ptr<io::WritableFile>* file) override {
    return base_->ReopenWritableFile(path, options, file);
  }
  Status NewRandomAccessFile(const std::string& path, const io::FileOptions& options,
                             std::unique_ptr<io::RandomAccessFile>* file) override {
    return base_->NewRandomAccessFile(path, options, file);
  }
  Status NewSequentialFile(const std::string& path, const io::FileOptions& options,
                           std::unique_ptr<io::SequentialFile>* file) override {
    return base_->NewSequentialFile(path, options, file);
  }
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status ListDir(const std::string& path, std::vector<std::string>* names) override {
    return base_->ListDir(path, names);
  }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status Lock(const std::string& path, std::unique_ptr<io::FileLock>* lock) override {
    return base_->Lock(path, lock);
  }
  std::string_view name() const override { return "gated"; }

 private:
  const std::shared_ptr<io::FileSystem> base_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int blocked_ = 0;
};

std::string Key(uint64_t i) { return fmt::format("key{:010}", i); }
std::string Value(uint64_t i) { return fmt::format("{:0100}", i); }

// What the budget allows on top of memtable_bytes: each of the two memtables
// may pass its switch size by one write (a single writer's group) landing in
// a fresh arena block.
size_t BudgetSlackBytes(const DBImpl::MemTableMemory& m) {
  const size_t block = std::max(PageBytes(), m.switch_bytes / 16);
  return 2 * (block + 1024);
}

// The flush is held at the gate: writes fill the active memtable, switch it,
// fill the next one and then wait, with the memtables within the budget.
// Once the flush may proceed, every write completes and is readable.
TEST(LsmMemoryTest, WritersWaitForFlushAtTheMemTableBudget) {
  strata::testing::ScratchDir dir;
  auto gated = std::make_shared<GatedFileSystem>(io::DefaultFileSystem());
  Options options = TinyOptions();
  options.file_system = gated;
  std::unique_ptr<Engine> engine;
  ASSERT_TRUE(strata::Open(options, dir.path(), &engine).ok());
  auto* db = static_cast<DBImpl*>(engine.get());
  const size_t budget = options.memtable_bytes;
  EXPECT_EQ(db->memtable_memory().switch_bytes, budget / 2);

  // Four budgets' worth of entries: far more than the memtables may hold.
  const uint64_t entry_bytes = Key(0).size() + Value(0).size();
  const uint64_t writes = 4 * budget / entry_bytes;
  std::atomic<uint64_t> written{0};
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    for (uint64_t i = 0; i < writes; ++i) {
      if (!engine->Put(WriteOptions{}, Key(i), Value(i)).ok()) break;
      written.fetch_add(1, std::memory_order_release);
    }
    writer_done.store(true, std::memory_order_release);
  });
  gated->WaitForBlockedTableWrite();
  // The flush is stuck; the writer runs until the budget is spent.
  while (!db->memtable_memory().writer_waiting && !writer_done.load()) {
    std::this_thread::yield();
  }
  const DBImpl::MemTableMemory held = db->memtable_memory();
  SCOPED_TRACE(fmt::format("bytes={} peak={} switch={}", held.bytes, held.bytes_peak,
                           held.switch_bytes));
  EXPECT_LT(written.load(std::memory_order_acquire), writes);
  // Both shares are full: the budget is used, not exceeded.
  EXPECT_GE(held.bytes, budget);
  EXPECT_LE(held.bytes_peak, budget + BudgetSlackBytes(held));
  EXPECT_EQ(Property(engine->Stats(), "lsm.immutable_memtables"), 1u);
  EXPECT_EQ(Property(engine->Stats(), "lsm.flushes"), 0u);

  gated->Open();
  writer.join();
  ASSERT_EQ(written.load(), writes);
  const DBImpl::MemTableMemory after = db->memtable_memory();
  EXPECT_LE(after.bytes_peak, budget + BudgetSlackBytes(after));
  const EngineStats stats = engine->Stats();
  EXPECT_GT(stats.stall_micros, 0u);
  EXPECT_GE(Property(stats, "lsm.flushes"), 3u);
  for (uint64_t i = 0; i < writes; i += 97) EXPECT_EQ(GetOrStatus(engine.get(), Key(i)), Value(i));
}

// Several writers (so write groups form) with flushes running freely: the
// memtables stay within the budget plus one write group per memtable.
TEST(LsmMemoryTest, ConcurrentWritersStayWithinBudget) {
  const uint64_t seed = strata::testing::TestSeed(7);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  strata::testing::ScratchDir dir;
  Options options = TinyOptions();
  options.memtable_bytes = 256 * 1024;
  std::unique_ptr<Engine> engine;
  ASSERT_TRUE(strata::Open(options, dir.path(), &engine).ok());
  auto* db = static_cast<DBImpl*>(engine.get());
  constexpr int kThreads = 4;
  constexpr uint64_t kWritesPerThread = 3000;
  constexpr size_t kValueBytesMax = 400;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      for (uint64_t i = 0; i < kWritesPerThread; ++i) {
        const std::string value(1 + rng() % kValueBytesMax, static_cast<char>('a' + t));
        ASSERT_TRUE(engine->Put(WriteOptions{}, Key(rng() % 20000), value).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  const DBImpl::MemTableMemory m = db->memtable_memory();
  SCOPED_TRACE(fmt::format("bytes={} peak={}", m.bytes, m.bytes_peak));
  // A group of small writes is capped at 128 KiB (db_impl.cc); with
  // kThreads writers it holds at most kThreads batches.
  const size_t group_bytes_max = kThreads * (Key(0).size() + kValueBytesMax + 128);
  EXPECT_LE(m.bytes_peak, options.memtable_bytes + 2 * (group_bytes_max + m.switch_bytes / 16));
  EXPECT_GT(Property(engine->Stats(), "lsm.flushes"), 0u);
}

TEST(LsmMemoryTest, TooSmallBudgetIsRefused) {
  strata::testing::ScratchDir dir;
  Options options = TinyOptions();
  options.memtable_bytes = 8 * 1024;
  std::unique_ptr<Engine> engine;
  EXPECT_TRUE(strata::Open(options, dir.path(), &engine).IsInvalidArgument());
  options.memtable_bytes = 16 * 1024;
  EXPECT_TRUE(strata::Open(options, dir.path(), &engine).ok());
}

TEST(ArenaTest, CountsWholePagesAndGivesBigRequestsTheirOwnBlock) {
  const size_t page = PageBytes();
  Arena arena(page + 1);  // rounded up to two pages
  EXPECT_EQ(arena.block_bytes(), 2 * page);
  EXPECT_EQ(arena.MemoryUsage(), 0u);
  char* a = arena.Allocate(100);
  EXPECT_EQ(arena.MemoryUsage(), 2 * page);
  // Too big for the rest of the block, and above a quarter block: a block
  // of its own, rounded to pages...
  char* big = arena.Allocate(2 * page + 1);
  EXPECT_EQ(arena.MemoryUsage(), 5 * page);
  std::memset(big, 0xab, 2 * page + 1);
  // ...and the current block continues where it was.
  char* b = arena.Allocate(100);
  EXPECT_EQ(b, a + 100);
  char* aligned = arena.AllocateAligned(8);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % alignof(std::max_align_t), 0u);
  // Filling the block maps exactly one more.
  for (size_t used = 0; used < 2 * page; used += 64) arena.Allocate(64);
  EXPECT_EQ(arena.MemoryUsage(), 7 * page);
}

// Memory is writable, distinct per allocation, and survives other allocations.
TEST(ArenaTest, AllocationsDoNotOverlap) {
  const uint64_t seed = strata::testing::TestSeed(3);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  Arena arena(64 * 1024);
  std::vector<std::pair<char*, size_t>> allocs;
  for (int i = 0; i < 2000; ++i) {
    const size_t n = 1 + rng() % (i % 50 == 0 ? 40000 : 300);
    char* p = i % 2 == 0 ? arena.Allocate(n) : arena.AllocateAligned(n);
    std::memset(p, i & 0xff, n);
    allocs.emplace_back(p, n);
  }
  for (size_t i = 0; i < allocs.size(); ++i) {
    const auto [p, n] = allocs[i];
    for (size_t j = 0; j < n; j += 97) ASSERT_EQ(static_cast<uint8_t>(p[j]), i & 0xff);
  }
}

}  // namespace
}  // namespace strata::lsm
