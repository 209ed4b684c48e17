// DeviceModelFileSystem: the HDD charges seeks and rotation for random
// requests and only transfer for sequential ones; the SSD counts pages and
// erase blocks. Costs are modeled numbers, so they are asserted exactly.
#include "io/device_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <algorithm>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "strata/options.h"
#include "tests/testing/test_util.h"

namespace strata::io {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

class DeviceModelTest : public ::testing::Test {
 protected:
  std::shared_ptr<DeviceModelFileSystem> Make(const DeviceModelConfig& config) {
    return std::make_shared<DeviceModelFileSystem>(DefaultFileSystem(), config);
  }
  void WriteFile(FileSystem* fs, const std::string& name, uint64_t bytes) {
    std::unique_ptr<WritableFile> file;
    ASSERT_TRUE(fs->NewWritableFile(dir_.Join(name), FileOptions{}, &file).ok());
    ASSERT_TRUE(file->Append(std::string(bytes, 'x')).ok());
    ASSERT_TRUE(file->Close().ok());
  }
  void ReadAt(RandomAccessFile* file, uint64_t offset, size_t n) {
    std::string buf(n, '\0');
    size_t bytes_read = 0;
    ASSERT_TRUE(file->Read(offset, n, buf.data(), &bytes_read).ok());
    ASSERT_EQ(bytes_read, n);
  }

  testing::ScratchDir dir_;
};

TEST(HddModelTest, SeekTimeGrowsWithDistance) {
  const HddModel hdd;
  EXPECT_EQ(hdd.SeekTime(0), nanoseconds(0));
  EXPECT_GE(hdd.SeekTime(1), hdd.track_to_track_seek);
  EXPECT_LT(hdd.SeekTime(1), hdd.track_to_track_seek + microseconds(1));
  EXPECT_EQ(hdd.SeekTime(hdd.capacity_bytes), hdd.full_stroke_seek);
  EXPECT_EQ(hdd.SeekTime(10 * hdd.capacity_bytes), hdd.full_stroke_seek);
  nanoseconds previous(0);
  for (uint64_t distance = 4 * kKiB; distance <= hdd.capacity_bytes; distance *= 4) {
    const nanoseconds seek = hdd.SeekTime(distance);
    EXPECT_GT(seek, previous) << "distance " << distance;
    previous = seek;
  }
  // 7200 rpm: a turn takes 8.33 ms, so half a turn on average.
  EXPECT_EQ(hdd.RotationalLatency(), nanoseconds(4'166'666));
  EXPECT_EQ(hdd.TransferTime(150'000'000), milliseconds(1000));
}

TEST(HddModelTest, AverageRandomSeekIsAboutEightAndAHalfMilliseconds) {
  const uint64_t seed = testing::TestSeed(7);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const HddModel hdd;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint64_t> address(0, hdd.capacity_bytes - 1);
  constexpr int kSamples = 20000;
  double total_nanos = 0;
  for (int i = 0; i < kSamples; i++) {
    const uint64_t a = address(rng);
    const uint64_t b = address(rng);
    total_nanos += static_cast<double>(hdd.SeekTime(a > b ? a - b : b - a).count());
  }
  const double average_ms = total_nanos / kSamples / 1e6;
  EXPECT_GT(average_ms, 8.0);
  EXPECT_LT(average_ms, 9.0);
}

TEST_F(DeviceModelTest, HddRandomReadsPaySeekAndRotationSequentialOnlyTransfer) {
  auto fs = Make(DeviceModelConfig::Hdd());
  const HddModel& hdd = fs->config().hdd;
  constexpr uint64_t kFileBytes = 1 * kMiB;
  constexpr size_t kReadBytes = 4 * kKiB;
  constexpr uint64_t kReads = kFileBytes / kReadBytes;
  WriteFile(fs.get(), "data", kFileBytes);
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("data"), FileOptions{}, &file).ok());

  // Sequential: one seek back to the start, then transfer only.
  fs->ResetStats();
  for (uint64_t i = 0; i < kReads; i++) ReadAt(file.get(), i * kReadBytes, kReadBytes);
  DeviceModelStats sequential = fs->stats();
  EXPECT_EQ(sequential.read_requests, kReads);
  EXPECT_EQ(sequential.bytes_read, kFileBytes);
  EXPECT_EQ(sequential.seeks, 1u);
  const nanoseconds transfer = hdd.TransferTime(kReadBytes) * kReads;
  const nanoseconds one_seek = hdd.SeekTime(kFileBytes) + hdd.RotationalLatency();
  EXPECT_EQ(sequential.modeled_time(), transfer + one_seek);

  // Random: every read is a seek plus half a turn plus its transfer.
  fs->ResetStats();
  std::vector<uint64_t> order;
  for (uint64_t i = 0; i < kReads; i++) order.push_back((i * 37) % kReads);  // 37 is coprime
  uint64_t head = kFileBytes;  // where the sequential pass left the head
  nanoseconds expected(0);
  for (uint64_t block : order) {
    const uint64_t offset = block * kReadBytes;
    ReadAt(file.get(), offset, kReadBytes);
    const uint64_t distance = offset > head ? offset - head : head - offset;
    expected += hdd.SeekTime(distance) + hdd.RotationalLatency() + hdd.TransferTime(kReadBytes);
    head = offset + kReadBytes;
  }
  DeviceModelStats random = fs->stats();
  EXPECT_EQ(random.seeks, kReads);
  EXPECT_EQ(random.modeled_time(), expected);
  EXPECT_GT(random.modeled_nanos, 50 * sequential.modeled_nanos);
  EXPECT_GT(random.modeled_time(), hdd.RotationalLatency() * kReads);
}

TEST_F(DeviceModelTest, HddSeeksFartherBetweenFarFiles) {
  auto fs = Make(DeviceModelConfig::Hdd());
  // Slots are given in order of first open: "a" slot 0, "b" slot 1, "c"..."z" after.
  std::vector<std::unique_ptr<RandomAccessFile>> files;
  for (char c = 'a'; c <= 'z'; c++) {
    WriteFile(fs.get(), std::string(1, c), 4 * kKiB);
    files.emplace_back();
    ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join(std::string(1, c)), FileOptions{},
                                        &files.back()).ok());
  }
  auto cost = [&](size_t from, size_t to) {
    ReadAt(files[from].get(), 0, 4 * kKiB);
    fs->ResetStats();
    ReadAt(files[to].get(), 0, 4 * kKiB);
    return fs->stats().modeled_nanos;
  };
  const uint64_t near = cost(0, 1);
  const uint64_t far = cost(0, 25);
  EXPECT_GT(far, near);
}

TEST_F(DeviceModelTest, HddSyncCostsHalfATurn) {
  auto fs = Make(DeviceModelConfig::Hdd());
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(dir_.Join("wal"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("x").ok());
  fs->ResetStats();
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs->SyncDir(dir_.path()).ok());
  DeviceModelStats stats = fs->stats();
  EXPECT_EQ(stats.sync_requests, 2u);
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.modeled_time(), 2 * fs->config().hdd.RotationalLatency());
}

TEST_F(DeviceModelTest, RenameKeepsTheFilesPlaceOnDisk) {
  auto fs = Make(DeviceModelConfig::Hdd());
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(dir_.Join("a"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append(std::string(8 * kKiB, 'a')).ok());
  ASSERT_TRUE(file->Close().ok());
  ASSERT_TRUE(fs->Rename(dir_.Join("a"), dir_.Join("b")).ok());
  ASSERT_TRUE(fs->ReopenWritableFile(dir_.Join("b"), FileOptions{}, &file).ok());
  fs->ResetStats();
  ASSERT_TRUE(file->Append(std::string(8 * kKiB, 'b')).ok());
  EXPECT_EQ(fs->stats().seeks, 0u);  // continues where "a" ended
}

TEST_F(DeviceModelTest, SsdProgramsWholePagesAndBuffersTheOpenOne) {
  auto fs = Make(DeviceModelConfig::Ssd());
  const SsdModel& ssd = fs->config().ssd;
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(dir_.Join("wal"), FileOptions{}, &file).ok());
  // 40 appends of 100 bytes stay inside page 0: nothing programmed yet.
  for (int i = 0; i < 40; i++) ASSERT_TRUE(file->Append(std::string(100, 'r')).ok());
  EXPECT_EQ(fs->stats().pages_programmed, 0u);
  EXPECT_EQ(fs->stats().modeled_nanos, 0u);
  // Crossing into page 1 completes page 0.
  ASSERT_TRUE(file->Append(std::string(200, 'r')).ok());
  EXPECT_EQ(fs->stats().pages_programmed, 1u);
  // A sync programs the open page 1 and flushes.
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(fs->stats().pages_programmed, 2u);
  // After a sync the same page is programmed again: NAND is not rewritten in place.
  ASSERT_TRUE(file->Append("x").ok());
  ASSERT_TRUE(file->Sync().ok());
  DeviceModelStats stats = fs->stats();
  EXPECT_EQ(stats.pages_programmed, 3u);
  EXPECT_EQ(stats.write_requests, 42u);
  EXPECT_EQ(stats.sync_requests, 2u);
  EXPECT_EQ(stats.bytes_written, 4201u);
  EXPECT_EQ(stats.modeled_time(), 3 * ssd.program_page + 2 * ssd.flush);
  // A full-page write at a page boundary is programmed at once; Close
  // programs a partly written last page.
  fs->ResetStats();
  ASSERT_TRUE(file->WriteAt(8 * kKiB, std::string(4 * kKiB + 10, 'w')).ok());
  EXPECT_EQ(fs->stats().pages_programmed, 1u);  // page 2; page 3 waits
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(fs->stats().pages_programmed, 2u);
  EXPECT_EQ(fs->stats().seeks, 0u);
}

TEST_F(DeviceModelTest, SsdReadsCountPagesAndUseChannels) {
  SsdModel model;
  model.channels = 4;
  auto fs = Make(DeviceModelConfig::Ssd(model));
  WriteFile(fs.get(), "sst", 64 * kKiB);
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("sst"), FileOptions{}, &file).ok());
  fs->ResetStats();
  ReadAt(file.get(), 4095, 2);  // straddles pages 0 and 1
  EXPECT_EQ(fs->stats().pages_read, 2u);
  EXPECT_EQ(fs->stats().modeled_time(), model.read_page);  // two channels in parallel
  fs->ResetStats();
  ReadAt(file.get(), 0, 40 * kKiB);  // 10 pages over 4 channels: 3 steps
  EXPECT_EQ(fs->stats().pages_read, 10u);
  EXPECT_EQ(fs->stats().modeled_time(), 3 * model.read_page);
  EXPECT_EQ(fs->stats().bytes_read, 40 * kKiB);
}

TEST_F(DeviceModelTest, SsdEraseBlockAccounting) {
  auto fs = Make(DeviceModelConfig::Ssd());
  const SsdModel& ssd = fs->config().ssd;
  const uint64_t erase_block_bytes = ssd.page_bytes * ssd.erase_block_pages;  // 1 MiB
  // Sequential: two erase blocks' worth of pages, two blocks touched, two erases.
  WriteFile(fs.get(), "seq", 2 * erase_block_bytes);
  DeviceModelStats stats = fs->stats();
  EXPECT_EQ(stats.pages_programmed, 2 * ssd.erase_block_pages);
  EXPECT_EQ(stats.erase_blocks_touched, 2u);
  EXPECT_EQ(stats.erases, 2u);
  // Scattered: 32 page writes, one per erase block: many blocks, no full one.
  fs->ResetStats();
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(dir_.Join("rand"), FileOptions{}, &file).ok());
  for (uint64_t i = 0; i < 32; i++) {
    ASSERT_TRUE(file->WriteAt(i * erase_block_bytes, std::string(ssd.page_bytes, 'p')).ok());
  }
  stats = fs->stats();
  EXPECT_EQ(stats.pages_programmed, 32u);
  EXPECT_EQ(stats.erase_blocks_touched, 32u);
  EXPECT_EQ(stats.erases, 0u);
  EXPECT_EQ(stats.modeled_time(), 32 * ssd.program_page);  // one request each: no parallelism
}

TEST_F(DeviceModelTest, ResetStatsZeroesEveryCounter) {
  auto fs = Make(DeviceModelConfig::Ssd());
  WriteFile(fs.get(), "f", 3 * kMiB);
  std::string data;
  ASSERT_TRUE(ReadFileToString(fs.get(), dir_.Join("f"), &data).ok());
  EXPECT_GT(fs->stats().requests, 0u);
  EXPECT_GT(fs->stats().erases, 0u);
  fs->ResetStats();
  DeviceModelStats stats = fs->stats();
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.read_requests + stats.write_requests + stats.sync_requests, 0u);
  EXPECT_EQ(stats.bytes_read + stats.bytes_written + stats.seeks + stats.modeled_nanos, 0u);
  EXPECT_EQ(stats.pages_read + stats.pages_programmed + stats.erase_blocks_touched, 0u);
  EXPECT_EQ(stats.erases, 0u);
}

TEST_F(DeviceModelTest, ConcurrentReadersAreAllCounted) {
  auto fs = Make(DeviceModelConfig::Hdd());
  WriteFile(fs.get(), "f", 64 * kKiB);
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("f"), FileOptions{}, &file).ok());
  fs->ResetStats();
  constexpr int kThreads = 4;
  constexpr int kReads = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < kReads; i++) ReadAt(file.get(), (i % 16) * 4 * kKiB, 4 * kKiB);
    });
  }
  for (std::thread& thread : threads) thread.join();
  DeviceModelStats stats = fs->stats();
  EXPECT_EQ(stats.read_requests, uint64_t{kThreads} * kReads);
  EXPECT_EQ(stats.bytes_read, uint64_t{kThreads} * kReads * 4 * kKiB);
  EXPECT_GT(stats.modeled_nanos, 0u);
}

TEST(DeviceModelConfigTest, ValidateNamesTheBadField) {
  EXPECT_TRUE(DeviceModelConfig::Hdd().Validate().ok());
  EXPECT_TRUE(DeviceModelConfig::Ssd().Validate().ok());
  HddModel hdd;
  hdd.rpm = 0;
  Status s = DeviceModelConfig::Hdd(hdd).Validate();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("rpm"), std::string::npos);
  hdd = HddModel{};
  hdd.full_stroke_seek = microseconds(10);
  EXPECT_TRUE(DeviceModelConfig::Hdd(hdd).Validate().IsInvalidArgument());
  SsdModel ssd;
  ssd.page_bytes = 16 * kKiB;  // 16 KiB pages * 256 = 4 MiB blocks: 64 MiB slots still fit
  EXPECT_TRUE(DeviceModelConfig::Ssd(ssd).Validate().ok());
  ssd.file_slot_bytes = 5 * kMiB;
  s = DeviceModelConfig::Ssd(ssd).Validate();
  EXPECT_NE(s.message().find("file_slot_bytes"), std::string::npos);
  ssd = SsdModel{};
  ssd.channels = 0;
  EXPECT_TRUE(DeviceModelConfig::Ssd(ssd).Validate().IsInvalidArgument());
}

TEST_F(DeviceModelTest, PlugsInAsOptionsFileSystem) {
  auto fs = std::make_shared<DeviceModelFileSystem>(DefaultFileSystem(), DeviceModelConfig::Hdd());
  Options options;
  options.file_system = fs;
  ASSERT_TRUE(WriteFileAtomically(options.file_system.get(), dir_.Join("CURRENT"), "x").ok());
  EXPECT_EQ(fs->stats().write_requests, 1u);
  EXPECT_EQ(fs->stats().sync_requests, 2u);  // the file and its directory
  EXPECT_EQ(fs->name(), "hdd-model(" + std::string(DefaultFileSystem()->name()) + ")");
  DeviceModelStats stats;
  stats.modeled_nanos = 1'234'567'890;
  stats.requests = 3;
  EXPECT_EQ(stats.ToString().substr(0, 33), "modeled=1.234567s requests=3 (r=0");
}


// --- Paced mode -------------------------------------------------------------------

// A paced model on a frozen clock: every request "arrives" at kT0, and each
// sleep target is recorded instead of slept, so the queue is asserted exactly.
class PacedDeviceModelTest : public DeviceModelTest {
 protected:
  using Clock = DeviceModelFileSystem::Clock;
  std::shared_ptr<DeviceModelFileSystem> MakePaced(DeviceModelConfig config) {
    config.pace = true;
    auto fs = Make(config);
    fs->SetClockForTesting([this] {
      std::lock_guard lock(mu_);
      return now_;
    });
    fs->SetSleepForTesting([this](Clock::time_point t) {
      std::lock_guard lock(mu_);
      sleeps_.push_back(t);
    });
    return fs;
  }
  std::vector<Clock::time_point> Sleeps() {
    std::lock_guard lock(mu_);
    return sleeps_;
  }
  void SetNow(Clock::time_point t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

  const Clock::time_point kT0 = Clock::time_point() + std::chrono::hours(1);
  std::mutex mu_;
  Clock::time_point now_ = kT0;
  std::vector<Clock::time_point> sleeps_;
};

TEST_F(PacedDeviceModelTest, RequestsThatArriveTogetherAreServedOneAfterTheOther) {
  auto fs = MakePaced(DeviceModelConfig::Hdd());
  WriteFile(fs.get(), "a", 1 * kMiB);
  WriteFile(fs.get(), "b", 1 * kMiB);
  std::unique_ptr<RandomAccessFile> a;
  std::unique_ptr<RandomAccessFile> b;
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("a"), FileOptions{}, &a).ok());
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("b"), FileOptions{}, &b).ok());
  // Let the writes' device time pass: the reads below find the device idle.
  SetNow(kT0 + std::chrono::hours(1));
  const Clock::time_point start = kT0 + std::chrono::hours(1);
  sleeps_.clear();
  fs->ResetStats();
  ReadAt(a.get(), 512 * kKiB, 4 * kKiB);
  const nanoseconds first = fs->stats().modeled_time();
  ReadAt(b.get(), 256 * kKiB, 4 * kKiB);  // arrives at the same instant
  const DeviceModelStats stats = fs->stats();
  const nanoseconds second = stats.modeled_time() - first;
  ASSERT_EQ(Sleeps().size(), 2u);
  EXPECT_GT(first, milliseconds(4));
  EXPECT_GT(second, milliseconds(4));
  EXPECT_EQ(Sleeps()[0], start + first);
  EXPECT_EQ(Sleeps()[1], start + first + second);  // waited for the first
  EXPECT_EQ(stats.queued_nanos, static_cast<uint64_t>(first.count()));
  EXPECT_EQ(stats.paced_requests, 2u);

  // Two threads at once: whatever the order, the last one ends after the sum
  // of both costs, and exactly one of them queued behind the other.
  SetNow(start + std::chrono::hours(1));
  sleeps_.clear();
  fs->ResetStats();
  std::thread t1([&] { ReadAt(a.get(), 100 * kKiB, 4 * kKiB); });
  std::thread t2([&] { ReadAt(b.get(), 900 * kKiB, 4 * kKiB); });
  t1.join();
  t2.join();
  const DeviceModelStats both = fs->stats();
  const std::vector<Clock::time_point> ends = Sleeps();
  ASSERT_EQ(ends.size(), 2u);
  const Clock::time_point last = std::max(ends[0], ends[1]);
  const Clock::time_point earlier = std::min(ends[0], ends[1]);
  EXPECT_EQ(last, start + std::chrono::hours(1) + both.modeled_time());
  EXPECT_EQ(both.queued_nanos,
            static_cast<uint64_t>((earlier - start - std::chrono::hours(1)).count()));
}

TEST_F(PacedDeviceModelTest, SequentialStreamPaysOneSeekThenTransferOnly) {
  auto fs = MakePaced(DeviceModelConfig::Hdd());
  const HddModel& hdd = fs->config().hdd;
  WriteFile(fs.get(), "data", 1 * kMiB);
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("data"), FileOptions{}, &file).ok());
  const Clock::time_point start = kT0 + std::chrono::hours(1);
  SetNow(start);
  sleeps_.clear();
  fs->ResetStats();
  constexpr uint64_t kChunk = 64 * kKiB;
  for (uint64_t offset = 0; offset < 1 * kMiB; offset += kChunk) {
    ReadAt(file.get(), offset, kChunk);
  }
  const DeviceModelStats stats = fs->stats();
  EXPECT_EQ(stats.seeks, 1u);
  const std::vector<Clock::time_point> ends = Sleeps();
  ASSERT_EQ(ends.size(), 16u);
  const nanoseconds seek = hdd.SeekTime(1 * kMiB) + hdd.RotationalLatency();
  EXPECT_EQ(ends[0], start + seek + hdd.TransferTime(kChunk));
  for (size_t i = 1; i < ends.size(); i++) {
    EXPECT_EQ(ends[i] - ends[i - 1], hdd.TransferTime(kChunk)) << "chunk " << i;
  }
  EXPECT_EQ(ends.back(), start + stats.modeled_time());
}

TEST_F(PacedDeviceModelTest, AnIdleDeviceStartsAtArrivalAfterTheIdleCredit) {
  DeviceModelConfig config = DeviceModelConfig::Ssd();
  config.pace_idle_credit = microseconds(200);
  auto fs = MakePaced(config);
  WriteFile(fs.get(), "f", 64 * kKiB);
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("f"), FileOptions{}, &file).ok());
  const nanoseconds read = fs->config().ssd.read_page;
  Clock::time_point t = kT0 + std::chrono::hours(1);
  SetNow(t);
  sleeps_.clear();
  ReadAt(file.get(), 0, 4 * kKiB);
  ASSERT_EQ(Sleeps().back(), t + read);
  // 100 us after the device went idle: within the credit, served from then.
  SetNow(t + read + microseconds(100));
  ReadAt(file.get(), 8 * kKiB, 4 * kKiB);
  EXPECT_EQ(Sleeps().back(), t + read + read);
  // 1 ms after: the device was idle, the request starts when it arrives.
  t = t + read + read + milliseconds(1);
  SetNow(t);
  ReadAt(file.get(), 16 * kKiB, 4 * kKiB);
  EXPECT_EQ(Sleeps().back(), t + read);
  EXPECT_EQ(fs->stats().queued_nanos, 0u);
}

TEST_F(DeviceModelTest, UnpacedModelNeverSleeps) {
  auto fs = Make(DeviceModelConfig::Hdd());
  int sleeps = 0;
  fs->SetSleepForTesting([&](DeviceModelFileSystem::Clock::time_point) { sleeps++; });
  WriteFile(fs.get(), "f", 64 * kKiB);
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("f"), FileOptions{}, &file).ok());
  ReadAt(file.get(), 0, 4 * kKiB);
  EXPECT_GT(fs->stats().modeled_nanos, 0u);
  EXPECT_EQ(fs->stats().paced_requests, 0u);
  EXPECT_EQ(sleeps, 0);
}

// Real clock, real sleep: a paced request takes at least its modeled time
// (lower bounds only; a loaded machine may take longer).
TEST_F(DeviceModelTest, PacedRequestsTakeAtLeastTheirModeledTime) {
  DeviceModelConfig config = DeviceModelConfig::Hdd();
  config.pace = true;
  config.pace_idle_credit = nanoseconds(0);
  auto fs = Make(config);
  WriteFile(fs.get(), "f", 1 * kMiB);
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(fs->NewRandomAccessFile(dir_.Join("f"), FileOptions{}, &file).ok());
  std::this_thread::sleep_for(milliseconds(100));  // the write's device time passes
  fs->ResetStats();
  auto start = std::chrono::steady_clock::now();
  ReadAt(file.get(), 512 * kKiB, 4 * kKiB);
  const nanoseconds one = std::chrono::steady_clock::now() - start;
  const DeviceModelStats after_one = fs->stats();
  EXPECT_GT(after_one.modeled_time(), milliseconds(4));
  EXPECT_GE(one, after_one.modeled_time());

  // Two threads at once: together they take at least both costs.
  fs->ResetStats();
  start = std::chrono::steady_clock::now();
  std::thread t1([&] { ReadAt(file.get(), 100 * kKiB, 4 * kKiB); });
  std::thread t2([&] { ReadAt(file.get(), 900 * kKiB, 4 * kKiB); });
  t1.join();
  t2.join();
  const nanoseconds both = std::chrono::steady_clock::now() - start;
  EXPECT_GE(both, fs->stats().modeled_time());
  EXPECT_GT(fs->stats().modeled_time(), 2 * fs->config().hdd.RotationalLatency());
}

}  // namespace
}  // namespace strata::io
