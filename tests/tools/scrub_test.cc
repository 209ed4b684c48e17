// Scrubbing: a flipped bit in an SSTable and in a B+ tree page is found by the
// background scrubber (callback, info log, Stats) and by `strata scrub`, each
// naming the file and the offset; a clean database scrubs clean; the byte
// rate holds (a tiny rate, set by the test).
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "btree/btree_impl.h"
#include "btree/check.h"
#include "io/file_system.h"
#include "io/scrub.h"
#include "lsm/db_impl.h"
#include "lsm/manifest.h"
#include "lsm/table.h"
#include "strata/engine.h"
#include "tests/testing/test_util.h"
#include "tests/tools/cli_util.h"

namespace strata {
namespace {

constexpr int kKeys = 3000;
// Tiny, so that a pass over the test's database takes a noticeable number of
// rate-limited reads.
constexpr uint64_t kScrubBytesPerSecond = 256 * kKiB;
// Bounds a wait for the scrubber; reached only if it never reports.
constexpr std::chrono::seconds kReportWaitMax{120};

// Collects what the scrubber reports: callback and info log.
struct Reports : InfoLogger {
  void Log(std::string_view line) override {
    std::lock_guard lock(mu);
    log.emplace_back(line);
  }
  void Corrupt(const Status& s) {
    std::lock_guard lock(mu);
    corruptions.push_back(s.message());
    cv.notify_all();
  }
  std::string WaitForFirst() {
    std::unique_lock lock(mu);
    cv.wait_for(lock, kReportWaitMax, [&] { return !corruptions.empty(); });
    return corruptions.empty() ? std::string() : corruptions[0];
  }
  bool Logged(const std::string& text) {
    std::lock_guard lock(mu);
    for (const std::string& l : log) {
      if (l.find("scrub: ") != std::string::npos && l.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> corruptions;
  std::vector<std::string> log;
};

Options SmallOptions(const std::string& kind) {
  Options o;
  o.engine = kind;
  o.memtable_bytes = 64 * kKiB;
  o.block_bytes = 1 * kKiB;
  o.compression = Compression::kNone;
  o.wal_segment_bytes = 256 * kKiB;
  return o;
}

void Fill(const std::string& kind, const std::string& dir) {
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(SmallOptions(kind), dir, &db).ok());
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, fmt::format("key{:06}", i), std::string(40, 'v')).ok());
  }
  ASSERT_TRUE(db->Flush().ok());
  ASSERT_TRUE(db->Close().ok());
}

uint64_t Property(const EngineStats& st, std::string_view name) {
  for (const auto& [k, v] : st.properties) {
    if (k == name) return v;
  }
  return UINT64_MAX;
}

// Flips a bit at `offset` of `file` and returns what the scrub must say
// about it ("<file> @ <offset>").
struct Damage {
  std::string where;  // "000012.sst @ 2077" or "<path> page 5 @ 6136"
};

// The second data block of the largest table: flips a bit inside it.
Damage DamageSst(const std::string& dir) {
  auto fs = io::DefaultFileSystem();
  std::vector<std::string> names;
  EXPECT_TRUE(fs->ListDir(dir, &names).ok());
  std::string victim;
  uint64_t victim_bytes = 0;
  for (const std::string& n : names) {
    if (!n.ends_with(".sst")) continue;
    const uint64_t bytes = fs->FileSize(io::JoinPath(dir, n)).value();
    if (bytes > victim_bytes) {
      victim = n;
      victim_bytes = bytes;
    }
  }
  EXPECT_FALSE(victim.empty());
  const std::string path = io::JoinPath(dir, victim);
  std::unique_ptr<io::RandomAccessFile> file;
  EXPECT_TRUE(fs->NewRandomAccessFile(path, io::FileOptions{}, &file).ok());
  std::unique_ptr<lsm::Table> table;
  EXPECT_TRUE(lsm::Table::Open(lsm::TableOptions{}, std::move(file), victim_bytes, 1, nullptr,
                               &table)
                  .ok());
  auto index = table->NewIndexIterator();
  index->SeekToFirst();
  index->Next();
  lsm::BlockHandle handle;
  EXPECT_TRUE(table->DecodeDataHandle(index->value(), &handle).ok());
  table.reset();
  std::string bytes;
  EXPECT_TRUE(io::ReadFileToString(fs.get(), path, &bytes).ok());
  bytes[handle.offset + 7] ^= 0x10;
  std::unique_ptr<io::WritableFile> out;
  EXPECT_TRUE(fs->NewWritableFile(path, io::FileOptions{}, &out).ok());
  EXPECT_TRUE(out->Append(bytes).ok());
  EXPECT_TRUE(out->Sync().ok());
  return Damage{fmt::format("{} @ {}", victim, handle.offset)};
}

// The root page of the newest checkpoint: flips a bit in its cells.
Damage DamageBtree(const std::string& dir) {
  auto fs = io::DefaultFileSystem();
  const std::string path = io::JoinPath(dir, btree::kDataFileName);
  std::unique_ptr<io::RandomAccessFile> file;
  EXPECT_TRUE(fs->NewRandomAccessFile(path, io::FileOptions{}, &file).ok());
  size_t page_bytes = 0;
  btree::Meta meta;
  EXPECT_TRUE(btree::LoadNewestMeta(*file, &page_bytes, &meta).ok());
  file.reset();
  EXPECT_GT(meta.height, 1u);
  std::string bytes;
  EXPECT_TRUE(io::ReadFileToString(fs.get(), path, &bytes).ok());
  bytes[meta.root * page_bytes + page_bytes / 2] ^= 0x04;
  std::unique_ptr<io::WritableFile> out;
  EXPECT_TRUE(fs->NewWritableFile(path, io::FileOptions{}, &out).ok());
  EXPECT_TRUE(out->Append(bytes).ok());
  EXPECT_TRUE(out->Sync().ok());
  // The checksum trailer is where the page's damage shows.
  return Damage{fmt::format("{} page {} @ {}: checksum mismatch", path, meta.root,
                            (meta.root + 1) * page_bytes - btree::kTrailerBytes)};
}

Damage DamageFor(const std::string& kind, const std::string& dir) {
  return kind == "lsm" ? DamageSst(dir) : DamageBtree(dir);
}

class ScrubTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScrubTest, BackgroundScrubberFindsAFlippedBit) {
  testing::ScratchDir dir;
  Fill(GetParam(), dir.path());
  const Damage damage = DamageFor(GetParam(), dir.path());
  auto reports = std::make_shared<Reports>();
  Options o = SmallOptions(GetParam());
  o.scrub_bytes_per_second = kScrubBytesPerSecond;
  o.info_log = reports;
  o.on_scrub_corruption = [reports](const Status& s) { reports->Corrupt(s); };
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, dir.path(), &db).ok());
  const std::string first = reports->WaitForFirst();
  EXPECT_NE(first.find(damage.where), std::string::npos) << first << " vs " << damage.where;
  EXPECT_TRUE(reports->Logged(damage.where));
  const EngineStats st = db->Stats();
  EXPECT_GE(Property(st, "scrub.corruptions"), 1u);
  EXPECT_GE(Property(st, "scrub.bytes"), 1u);
  db.reset();
}

TEST_P(ScrubTest, CliFindsAFlippedBit) {
  testing::ScratchDir dir;
  Fill(GetParam(), dir.path());
  testing::CliResult r = testing::RunCli("scrub " + dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(": clean"), std::string::npos) << r.output;
  const Damage damage = DamageFor(GetParam(), dir.path());
  r = testing::RunCli("scrub " + dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("CORRUPT " + damage.where), std::string::npos)
      << r.output << " vs " << damage.where;
}

// A clean database: one pass verifies every file, reports nothing, and
// reads no faster than the rate.
TEST_P(ScrubTest, CleanDatabaseScrubsCleanAtTheRate) {
  testing::ScratchDir dir;
  Fill(GetParam(), dir.path());
  Options o = SmallOptions(GetParam());
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(o, dir.path(), &db).ok());
  io::ByteRateLimiter limiter(kScrubBytesPerSecond);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> reported;
  io::ScrubCounters counters;
  const io::ScrubReportFn report = [&](const Status& s) { reported.push_back(s.ToString()); };
  Status s;
  if (auto* lsm = dynamic_cast<lsm::DBImpl*>(db.get())) {
    s = lsm->ScrubOnce(&limiter, report, &counters);
  } else {
    s = dynamic_cast<btree::BtreeImpl*>(db.get())->ScrubOnce(&limiter, report, &counters);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(reported.empty()) << reported[0];
  EXPECT_GE(counters.files, 1u);
  EXPECT_EQ(counters.errors, 0u);
  // Every byte of the files went through the limiter, and the limiter let
  // them through no faster than the rate (its deadline is a lower bound).
  EXPECT_GT(limiter.bytes_acquired(), static_cast<uint64_t>(kKeys) * 40);
  EXPECT_EQ(limiter.booked_time().count(),
            static_cast<int64_t>(limiter.bytes_acquired() * 1'000'000 / kScrubBytesPerSecond));
  EXPECT_GE(elapsed, limiter.booked_time());
}

TEST(ScrubCliTest, UsageErrorsExit2) {
  testing::ScratchDir dir;
  EXPECT_EQ(testing::RunCli("scrub").exit_code, 2);
  EXPECT_EQ(testing::RunCli("scrub " + dir.Join("missing")).exit_code, 2);
}

TEST(ScrubLimiterTest, StopWakesAWaiterAndFailsLaterReads) {
  io::ByteRateLimiter limiter(1);  // a second per byte
  std::thread stopper([&] { limiter.Stop(); });
  EXPECT_TRUE(limiter.Acquire(3600).IsBusy());
  stopper.join();
  EXPECT_TRUE(limiter.Acquire(1).IsBusy());
  EXPECT_FALSE(limiter.WaitFor(std::chrono::hours(1)));
}

INSTANTIATE_TEST_SUITE_P(Engines, ScrubTest, ::testing::ValuesIn(RegisteredEngineKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace strata
