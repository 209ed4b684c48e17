// The LSM engine's life cycle: the write path keeps the engine mutex free of
// WAL I/O, Close reports the final sync's error, background errors stop
// writes and Resume retries them, read-only opens write nothing, the info
// log is written and rotated, and the engine outliving its iterators and
// snapshots.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "io/fault_file_system.h"
#include "io/file_system.h"
#include "lsm/db_impl.h"
#include "lsm/info_log.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/gate_file_system.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

using testing::GetOrStatus;
using testing::Property;
using testing::TinyOptions;

std::string Key(int i) { return fmt::format("key{:06}", i); }
std::string Value(int i) { return fmt::format("value-{}-{}", i, std::string(40, 'v')); }

// Waits for `f` as long as a hung call is worth waiting for: a reader stuck
// behind the gated WAL write never finishes, and the test reports it instead
// of hanging (the bound is a hang detector, not a timing assertion).
template <typename T>
bool Finishes(std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
}

// wal_buffer_bytes: 0 (every group is written before its writers return) or
// a buffer that a memtable switch writes out.
class LsmWalIoTest : public ::testing::TestWithParam<size_t> {};

// A WAL write is held at the gate while another thread reads: Get,
// NewIterator and GetSnapshot all finish. With the buffer, the write held is
// the one a memtable switch (Flush) does, which used to run under the engine
// mutex.
TEST_P(LsmWalIoTest, ReadersDoNotWaitForAWalWrite) {
  strata::testing::ScratchDir dir;
  auto gate = std::make_shared<strata::testing::GateFileSystem>(io::DefaultFileSystem());
  Options options = TinyOptions();
  options.file_system = gate;
  options.wal_buffer_bytes = GetParam();
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());

  gate->Arm();
  std::thread writer([&] {
    if (GetParam() == 0) {
      EXPECT_TRUE(db->Put(WriteOptions{}, Key(100), Value(100)).ok());
    } else {
      EXPECT_TRUE(db->Flush().ok());
    }
  });
  gate->WaitUntilBlocked();
  auto get = std::async(std::launch::async, [&] { return GetOrStatus(db.get(), Key(3)); });
  auto iterate = std::async(std::launch::async, [&] {
    auto it = db->NewIterator(ReadOptions{});
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  });
  auto snapshot = std::async(std::launch::async, [&] { return db->GetSnapshot() != nullptr; });
  const bool finished = Finishes(get) && Finishes(iterate) && Finishes(snapshot);
  gate->Open();
  writer.join();
  ASSERT_TRUE(finished) << "a read waited for the WAL write";
  EXPECT_EQ(get.get(), Value(3));
  EXPECT_EQ(iterate.get(), 20);
  EXPECT_TRUE(snapshot.get());
  if (GetParam() == 0) {
    EXPECT_EQ(GetOrStatus(db.get(), Key(100)), Value(100));
  }
}

INSTANTIATE_TEST_SUITE_P(Buffer, LsmWalIoTest, ::testing::Values(size_t{0}, size_t{64} << 10),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return info.param == 0 ? std::string("Unbuffered")
                                                  : std::string("Buffered");
                         });

// With wal_buffer_bytes, writes without sync wait in memory: Close logs and
// syncs them, so a clean close loses nothing.
TEST(LsmWalBufferTest, BufferedWritesSurviveCloseAndReopen) {
  strata::testing::ScratchDir dir;
  Options options = TinyOptions();
  options.wal_buffer_bytes = 64 << 10;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(GetOrStatus(db.get(), Key(i)), Value(i)) << i;
}

std::shared_ptr<io::FaultFileSystem> NewFaultFs() {
  return std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
}

TEST(LsmCloseTest, CloseReportsTheFinalSyncErrorAndRefusesLaterCalls) {
  strata::testing::ScratchDir dir;
  auto fs = NewFaultFs();
  Options options = TinyOptions();
  options.file_system = fs;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  ASSERT_TRUE(db->Put(WriteOptions{}, "k", "v").ok());
  io::ErrorInjection fail_wal_sync;
  fail_wal_sync.ops = io::Mask(io::FaultOp::kSync);
  fail_wal_sync.path_contains = "/wal/";
  fail_wal_sync.fail_count = io::kFailForever;
  fs->InjectError(fail_wal_sync);
  const Status closed = db->Close();
  EXPECT_TRUE(closed.IsIOError()) << closed.ToString();
  fs->ClearFaults();
  EXPECT_TRUE(db->Close().IsInvalidArgument());
  EXPECT_TRUE(db->Put(WriteOptions{}, "k2", "v").IsInvalidArgument());
  EXPECT_TRUE(db->Flush().IsInvalidArgument());
  std::string value;
  EXPECT_TRUE(db->Get(ReadOptions{}, "k", &value).IsInvalidArgument());
  auto it = db->NewIterator(ReadOptions{});
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsInvalidArgument());
  it.reset();
  db.reset();  // the destructor after Close does nothing more
}

// A flush that fails while Close waits for it is reported by Close (Close
// used to read the background error before it joined the background
// threads, and returned Ok).
TEST(LsmCloseTest, CloseReportsAFlushThatFailsWhileItWaits) {
  strata::testing::ScratchDir dir;
  auto gate = std::make_shared<strata::testing::GateFileSystem>(io::DefaultFileSystem());
  Options options = TinyOptions();
  options.file_system = gate;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  gate->ArmTableCreate(Status::IOError("gated table creation fails"));
  // Enough writes to fill a memtable: the flush thread blocks creating its table.
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());
    if (Property(db->Stats(), "lsm.immutable_memtables") > 0) break;
  }
  gate->WaitUntilBlocked();
  auto closed = std::async(std::launch::async, [&] { return db->Close(); });
  // Close is waiting for the flush thread (or about to): the flush now fails.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  gate->Open();
  const Status s = closed.get();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("gated table creation fails"), std::string::npos) << s.ToString();
  db.reset();
  // Nothing was lost: the WAL holds what the flush did not write.
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  EXPECT_EQ(GetOrStatus(db.get(), Key(0)), Value(0));
}

TEST(LsmCloseTest, CleanCloseIsOkAndDestructorWithoutCloseStillCloses) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  ASSERT_TRUE(db->Put(WriteOptions{}, "a", "1").ok());
  EXPECT_TRUE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  EXPECT_EQ(GetOrStatus(db.get(), "a"), "1");
  ASSERT_TRUE(db->Put(WriteOptions{}, "b", "2").ok());
  db.reset();  // no Close
  ASSERT_TRUE(strata::Open(TinyOptions(), dir.path(), &db).ok());
  EXPECT_EQ(GetOrStatus(db.get(), "b"), "2");
}

// A table write fails (a full disk): the flush's error shows in Stats at
// once and stops writes; Resume fails while the cause lasts and succeeds
// once it is gone, after which nothing is lost.
TEST(LsmBackgroundErrorTest, FailedFlushStopsWritesUntilResume) {
  strata::testing::ScratchDir dir;
  auto fs = NewFaultFs();
  Options options = TinyOptions();
  options.file_system = fs;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());
  EXPECT_TRUE(db->Stats().background_error.ok());
  io::ErrorInjection no_space;
  no_space.ops = io::Mask(io::FaultOp::kWrite);
  no_space.path_contains = ".sst";
  no_space.fail_count = io::kFailForever;
  fs->InjectError(no_space);
  const Status flushed = db->Flush();
  ASSERT_FALSE(flushed.ok());
  EngineStats stats = db->Stats();
  EXPECT_FALSE(stats.background_error.ok());
  EXPECT_EQ(Property(stats, "lsm.background_errors"), 1u);
  EXPECT_EQ(Property(stats, "lsm.background_error.resumable"), 1u);
  const Status put = db->Put(WriteOptions{}, "after", "x");
  EXPECT_EQ(put.code(), stats.background_error.code());
  EXPECT_EQ(put.message(), stats.background_error.message());
  EXPECT_EQ(GetOrStatus(db.get(), Key(7)), Value(7));  // reads go on

  EXPECT_FALSE(db->Resume().ok());  // the disk is still full
  fs->ClearFaults();
  ASSERT_TRUE(db->Resume().ok());
  EXPECT_TRUE(db->Stats().background_error.ok());
  ASSERT_TRUE(db->Put(WriteOptions{}, "after", "y").ok());
  ASSERT_TRUE(db->Flush().ok());
  EXPECT_GE(Property(db->Stats(), "lsm.flushes"), 1u);
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 200; ++i) ASSERT_EQ(GetOrStatus(db.get(), Key(i)), Value(i));
  EXPECT_EQ(GetOrStatus(db.get(), "after"), "y");
}

// A failed WAL write (or fdatasync) is not resumable: the log failed for
// good. Reopening recovers every write acknowledged before it.
TEST(LsmBackgroundErrorTest, FailedWalWriteNeedsAReopen) {
  strata::testing::ScratchDir dir;
  auto fs = NewFaultFs();
  Options options = TinyOptions();
  options.file_system = fs;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());
  io::ErrorInjection wal_write;
  wal_write.ops = io::Mask(io::FaultOp::kWrite);
  wal_write.path_contains = "/wal/";
  fs->InjectError(wal_write);
  EXPECT_FALSE(db->Put(WriteOptions{}, "lost", "x").ok());
  fs->ClearFaults();
  EXPECT_FALSE(db->Stats().background_error.ok());
  EXPECT_EQ(Property(db->Stats(), "lsm.background_error.resumable"), 0u);
  const Status resumed = db->Resume();
  EXPECT_FALSE(resumed.ok());
  EXPECT_NE(resumed.message().find("reopen"), std::string::npos) << resumed.ToString();
  EXPECT_FALSE(db->Put(WriteOptions{}, "still", "x").ok());
  EXPECT_FALSE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 50; ++i) ASSERT_EQ(GetOrStatus(db.get(), Key(i)), Value(i));
  ASSERT_TRUE(db->Put(WriteOptions{}, "still", "x").ok());
}

// Name, size and modification time of every file under `root`.
using FileState = std::map<std::string, std::tuple<uint64_t, int64_t, int64_t>>;
FileState DirectoryState(const std::string& root) {
  FileState state;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    struct stat st;
    EXPECT_EQ(::stat(entry.path().c_str(), &st), 0);
    state[entry.path().string()] = {static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec,
                                    st.st_mtim.tv_nsec};
  }
  return state;
}

// Tables, a manifest and unflushed WAL records: a read-only open sees all of
// it, refuses writes, and leaves every file as it was, with every kind of
// write operation unused.
TEST(LsmReadOnlyTest, ReadsEverythingAndWritesNothing) {
  strata::testing::ScratchDir dir;
  const std::string db_dir = dir.Join("db");
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(TinyOptions(), db_dir, &db).ok());
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());
    ASSERT_TRUE(db->Flush().ok());
    for (int i = 2000; i < 2100; ++i) {
      ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());
    }
    ASSERT_TRUE(db->Delete(WriteOptions{}, Key(5)).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  const FileState before = DirectoryState(db_dir);
  auto fs = NewFaultFs();
  Options options = TinyOptions();
  options.file_system = fs;
  options.read_only = true;
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Engine> db;
    const Status opened = strata::Open(options, db_dir, &db);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
    for (int i = 0; i < 2100; ++i) {
      ASSERT_EQ(GetOrStatus(db.get(), Key(i)), i == 5 ? "NOT_FOUND" : Value(i)) << i;
    }
    auto it = db->NewIterator(ReadOptions{});
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    EXPECT_EQ(n, 2099);
    it.reset();
    EXPECT_TRUE(db->Put(WriteOptions{}, "x", "y").IsNotSupported());
    EXPECT_TRUE(db->Delete(WriteOptions{}, "x").IsNotSupported());
    EXPECT_TRUE(db->Flush().IsNotSupported());
    EXPECT_TRUE(db->CompactAll().IsNotSupported());
    EXPECT_TRUE(db->Checkpoint(dir.Join("cp")).IsNotSupported());
    EXPECT_EQ(Property(db->Stats(), "lsm.read_only"), 1u);
    EXPECT_TRUE(db->Close().ok());
  }
  const io::FaultStats stats = fs->stats();
  for (io::FaultOp op : {io::FaultOp::kWrite, io::FaultOp::kSync, io::FaultOp::kRename,
                         io::FaultOp::kRemove, io::FaultOp::kSyncDir, io::FaultOp::kCreateDir,
                         io::FaultOp::kLock}) {
    EXPECT_EQ(stats.count(op), 0u) << io::FaultOpName(op);
  }
  EXPECT_EQ(DirectoryState(db_dir), before);
}

TEST(LsmReadOnlyTest, MissingDatabaseIsNotFoundAndNothingIsCreated) {
  strata::testing::ScratchDir dir;
  const std::string db_dir = dir.Join("absent");
  for (const bool read_only : {true, false}) {
    Options options = TinyOptions();
    options.read_only = read_only;
    options.create_if_missing = false;
    std::unique_ptr<Engine> db;
    EXPECT_TRUE(strata::Open(options, db_dir, &db).IsNotFound());
    EXPECT_FALSE(std::filesystem::exists(db_dir));
  }
  Options options = TinyOptions();
  options.read_only = true;  // create_if_missing (true) does not matter
  std::unique_ptr<Engine> db;
  EXPECT_TRUE(strata::Open(options, db_dir, &db).IsNotFound());
  EXPECT_FALSE(std::filesystem::exists(db_dir));
}

// Every info log line, kept in memory.
class CapturingLogger final : public InfoLogger {
 public:
  void Log(std::string_view line) override {
    std::lock_guard lock(mu_);
    text_ += std::string(line) + "\n";
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  std::mutex mu_;
  std::string text_;
};

std::string ReadAll(const std::string& path) {
  std::string text;
  EXPECT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), path, &text).ok()) << path;
  return text;
}

TEST(LsmInfoLogTest, LogFileRecordsEventsAndRotatesAtItsBound) {
  strata::testing::ScratchDir dir;
  Options options = TinyOptions();
  options.info_log_bytes_max = 2048;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  // 100 explicit flushes log well over 2 KiB whatever the background threads
  // do, so the LOG rotates at least once.
  for (int i = 0; i < 4000; ++i) {
    ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());
    if (i % 40 == 39) {
      ASSERT_TRUE(db->Flush().ok());
    }
  }
  ASSERT_TRUE(db->CompactAll().ok());
  ASSERT_TRUE(db->Close().ok());
  const std::string log = ReadAll(dir.Join("LOG"));
  const std::string old = ReadAll(dir.Join("LOG.old"));
  EXPECT_LE(log.size(), options.info_log_bytes_max);
  EXPECT_LE(old.size(), options.info_log_bytes_max);
  EXPECT_NE(log.find("close: ok"), std::string::npos) << log;
  const std::string all = old + log;
  EXPECT_NE(all.find("flush: "), std::string::npos) << all;
  EXPECT_NE(all.find("compaction"), std::string::npos) << all;

  // The next open starts a new LOG; the last one becomes LOG.old.
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  db.reset();
  const std::string reopened = ReadAll(dir.Join("LOG"));
  EXPECT_NE(reopened.find("open "), std::string::npos) << reopened;
  EXPECT_NE(reopened.find("recovered in"), std::string::npos) << reopened;
  EXPECT_EQ(ReadAll(dir.Join("LOG.old")), log);
}

TEST(LsmInfoLogTest, OptionsSinkReplacesTheFileAndSeesErrors) {
  strata::testing::ScratchDir dir;
  auto logger = std::make_shared<CapturingLogger>();
  auto fs = NewFaultFs();
  Options options = TinyOptions();
  options.info_log = logger;
  options.file_system = fs;
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), Value(i)).ok());
  io::ErrorInjection no_space;
  no_space.ops = io::Mask(io::FaultOp::kWrite);
  no_space.path_contains = ".sst";
  no_space.fail_count = io::kFailForever;
  fs->InjectError(no_space);
  EXPECT_FALSE(db->Flush().ok());
  fs->ClearFaults();
  ASSERT_TRUE(db->Resume().ok());
  db.reset();
  EXPECT_FALSE(std::filesystem::exists(dir.Join("LOG")));
  const std::string text = logger->text();
  EXPECT_NE(text.find("open "), std::string::npos) << text;
  EXPECT_NE(text.find("background error (resumable)"), std::string::npos) << text;
  EXPECT_NE(text.find("resume after"), std::string::npos) << text;
  EXPECT_NE(text.find("flush: "), std::string::npos) << text;
}

// Every documented maximum (strata/limits.h) goes through the engine with
// default options and comes back after a reopen (from the WAL); one byte
// more is InvalidArgument. Smaller WAL segments refuse what they cannot hold.
TEST(LsmLimitsTest, DocumentedMaximaGoThroughTheEngine) {
  EXPECT_GE(Options{}.wal_segment_bytes, kWalSegmentBytesForMaxBatch);
  strata::testing::ScratchDir dir;
  Options options;
  options.profile = DiskProfile::kSsd;
  options.block_cache_bytes = 1 << 20;
  const std::string big_key(kKeyBytesMax, 'k');
  const std::string big_value(kValueBytesMax, 'v');
  WriteBatch full;
  ASSERT_TRUE(full.Put("a", big_value).ok());
  // "b" with the biggest value the batch still takes: WriteBatch counts an
  // entry's framing at its worst case (a tag, two 5-byte varints and an
  // 8-byte version), so the batch ends within those bytes of the limit.
  constexpr size_t kWorstFramingBytes = 1 + 2 * 5 + 8;
  const size_t rest = kWriteBatchBytesMax - full.ApproximateSize() - kWorstFramingBytes - 1;
  {
    WriteBatch over = full;
    EXPECT_TRUE(over.Put("b", std::string(rest + 1, 'w')).IsInvalidArgument());
  }
  ASSERT_TRUE(full.Put("b", std::string(rest, 'w')).ok());
  ASSERT_GE(full.ApproximateSize(), kWriteBatchBytesMax - kWorstFramingBytes);
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
    ASSERT_TRUE(db->Put(WriteOptions{}, big_key, big_value).ok());
    ASSERT_TRUE(db->Write(WriteOptions{}, full).ok());
    EXPECT_TRUE(db->Put(WriteOptions{}, big_key + "k", "v").IsInvalidArgument());
    EXPECT_TRUE(db->Put(WriteOptions{}, "k", big_value + "v").IsInvalidArgument());
    ASSERT_TRUE(db->Close().ok());
  }
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(strata::Open(options, dir.path(), &db).ok());
  std::string value;
  ASSERT_TRUE(db->Get(ReadOptions{}, big_key, &value).ok());
  EXPECT_TRUE(value == big_value);
  ASSERT_TRUE(db->Get(ReadOptions{}, "b", &value).ok());
  EXPECT_EQ(value.size(), rest);
  db.reset();

  strata::testing::ScratchDir small_dir;
  ASSERT_TRUE(strata::Open(TinyOptions(), small_dir.path(), &db).ok());
  const Status refused = db->Put(WriteOptions{}, "k", big_value);
  EXPECT_TRUE(refused.IsInvalidArgument());
  EXPECT_NE(refused.message().find("wal_segment_bytes"), std::string::npos) << refused.ToString();
}

// ReadOptions has no switch that would be ignored: checksums are always
// verified (tests/lsm_table/corruption_test.cc flips every bit of a table).
template <typename T>
concept HasVerifyChecksums = requires(T o) { o.verify_checksums; };
static_assert(!HasVerifyChecksums<ReadOptions>);

TEST(LsmLifetimeDeathTest, EngineDestroyedBeforeItsIteratorAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  strata::testing::ScratchDir dir;
  EXPECT_DEATH(
      {
        std::unique_ptr<Engine> db;
        if (!strata::Open(TinyOptions(), dir.path(), &db).ok()) std::abort();
        std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions{});
        db.reset();
      },
      "live_iterators_");
  EXPECT_DEATH(
      {
        std::unique_ptr<Engine> db;
        if (!strata::Open(TinyOptions(), dir.path(), &db).ok()) std::abort();
        std::unique_ptr<Snapshot> snap = db->GetSnapshot();
        db.reset();
      },
      "live_snapshots_");
}

}  // namespace
}  // namespace strata::lsm
