// Engine::CreateCheckpoint for every registered engine kind (kinds without
// checkpoints skip): the copy equals the source as of its sequence, even
// under concurrent writes; immutable files are hard links; a crash at any
// point of the creation leaves no directory that opens as a wrong database.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <random>
#include <thread>

#include "io/fault_file_system.h"
#include "io/posix_file_system.h"
#include "strata/engine.h"
#include "tests/snapshot/snapshot_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::snapshot::testing {
namespace {

class CheckpointTest : public ::testing::TestWithParam<std::string> {
 protected:
  void OpenSource(std::shared_ptr<io::FileSystem> fs = nullptr) {
    Options o = SmallOptions(GetParam());
    o.file_system = std::move(fs);
    Status s = strata::Open(o, dir_.Join("db"), &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Checkpoints or skips the test where the engine has none.
  Status Checkpoint(const std::string& dir, const Snapshot* snapshot, CheckpointInfo* info) {
    CheckpointOptions options;
    options.dir = dir;
    options.snapshot = snapshot;
    return db_->CreateCheckpoint(options, info);
  }

  ::strata::testing::ScratchDir dir_;
  std::unique_ptr<Engine> db_;
};

#define SKIP_IF_NOT_SUPPORTED(s)                           \
  if ((s).IsNotSupported()) {                              \
    GTEST_SKIP() << GetParam() << ": " << (s).ToString(); \
  }

TEST_P(CheckpointTest, UnderConcurrentWritesEqualsSourceAsOfItsSequence) {
  const uint64_t seed = ::strata::testing::TestSeed(11);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  OpenSource();
  std::mt19937_64 rng(seed);
  RandomWrites(db_.get(), rng, 2000, 500);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::mt19937_64 wrng(seed + 1);
    while (!stop.load()) RandomWrites(db_.get(), wrng, 50, 500);
  });
  for (int round = 0; round < 4; ++round) {
    std::unique_ptr<Snapshot> snap = db_->GetSnapshot();
    CheckpointInfo info;
    const std::string copy = dir_.Join(fmt::format("copy{}", round));
    Status s = Checkpoint(copy, snap.get(), &info);
    if (s.IsNotSupported()) {
      stop = true;
      writer.join();
      GTEST_SKIP() << s.ToString();
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(info.sequence, snap->sequence());
    EXPECT_EQ(OpenAndReadState(GetParam(), copy), ReadState(db_.get(), snap.get()))
        << "round " << round;
  }
  stop = true;
  writer.join();
  // As of "now": once writes stop, the copy equals the source.
  CheckpointInfo info;
  ASSERT_TRUE(Checkpoint(dir_.Join("now"), nullptr, &info).ok());
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("now")), ReadState(db_.get()));
}

TEST_P(CheckpointTest, ImmutableFilesAreHardLinks) {
  OpenSource();
  std::mt19937_64 rng(3);
  RandomWrites(db_.get(), rng, 3000, 800);
  Status s = db_->CompactAll();
  SKIP_IF_NOT_SUPPORTED(s);
  CheckpointInfo info;
  s = Checkpoint(dir_.Join("copy"), nullptr, &info);
  SKIP_IF_NOT_SUPPORTED(s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  if (GetParam() == "btree") {
    // btree.db is rewritten in place, so nothing in it is immutable: the
    // copy is one compact rebuilt file, never a link to the source's.
    EXPECT_EQ(info.files_linked, 0u);
    EXPECT_EQ(info.files_copied, 1u);
    struct stat a;
    struct stat b;
    ASSERT_EQ(::stat(dir_.Join("db/btree.db").c_str(), &a), 0);
    ASSERT_EQ(::stat(dir_.Join("copy/btree.db").c_str(), &b), 0);
    EXPECT_NE(a.st_ino, b.st_ino);
    EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("copy")), ReadState(db_.get()));
    return;
  }
  EXPECT_GT(info.files_linked, 0u);
  EXPECT_EQ(info.files_copied, 0u);
  // Links cost no data: only the manifest, CURRENT and KIND are written.
  EXPECT_LT(info.bytes_written, info.bytes_linked / 10);
  std::vector<std::string> names;
  ASSERT_TRUE(io::DefaultFileSystem()->ListDir(dir_.Join("copy"), &names).ok());
  int linked = 0;
  for (const std::string& name : names) {
    if (!name.ends_with(".sst")) continue;
    struct stat a;
    struct stat b;
    ASSERT_EQ(::stat(dir_.Join("db/" + name).c_str(), &a), 0) << name;
    ASSERT_EQ(::stat(dir_.Join("copy/" + name).c_str(), &b), 0) << name;
    EXPECT_EQ(a.st_ino, b.st_ino) << name;
    ++linked;
  }
  EXPECT_EQ(static_cast<uint64_t>(linked), info.files_linked);
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("copy")), ReadState(db_.get()));
}

TEST_P(CheckpointTest, AsOfAnOldSnapshotDropsLaterWrites) {
  OpenSource();
  std::mt19937_64 rng(5);
  RandomWrites(db_.get(), rng, 1500, 300);
  std::unique_ptr<Snapshot> snap = db_->GetSnapshot();
  const State expected = ReadState(db_.get(), snap.get());
  RandomWrites(db_.get(), rng, 3000, 300);  // flushed and compacted with the older data
  (void)db_->CompactAll();
  CheckpointInfo info;
  Status s = Checkpoint(dir_.Join("copy"), snap.get(), &info);
  SKIP_IF_NOT_SUPPORTED(s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(info.sequence, snap->sequence());
  EXPECT_GT(info.files_copied, 0u);  // tables holding later writes were rewritten
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("copy")), expected);
  // The copy continues after the snapshot's sequence.
  {
    Options o = SmallOptions(GetParam());
    std::unique_ptr<Engine> copy;
    ASSERT_TRUE(strata::Open(o, dir_.Join("copy"), &copy).ok());
    ASSERT_TRUE(copy->Put(WriteOptions{}, "new", "x").ok());
    std::unique_ptr<Snapshot> after = copy->GetSnapshot();
    EXPECT_GT(after->sequence(), info.sequence);
  }
}

TEST_P(CheckpointTest, ExistingTargetIsInvalidArgument) {
  OpenSource();
  ASSERT_TRUE(db_->Put(WriteOptions{}, "k", "v").ok());
  Status s = Checkpoint(dir_.Join("copy"), nullptr, nullptr);
  SKIP_IF_NOT_SUPPORTED(s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Checkpoint(dir_.Join("copy"), nullptr, nullptr).IsInvalidArgument());
}

// Fails the Nth file system operation of the checkpoint, and every one
// after it (as a crash would stop them), for every N; then power is lost.
// The target either does not exist (and does not open) or is complete.
TEST_P(CheckpointTest, CrashMidCheckpointLeavesNoOpenablePartialDirectory) {
  auto fault = std::make_shared<io::FaultFileSystem>(std::make_shared<io::PosixFileSystem>());
  OpenSource(fault);
  std::mt19937_64 rng(9);
  RandomWrites(db_.get(), rng, 1500, 400);
  (void)db_->CompactAll();
  RandomWrites(db_.get(), rng, 300, 400);
  const State expected = ReadState(db_.get());
  bool completed = false;
  int points = 0;
  for (uint64_t nth = 1; !completed; ++nth) {
    SCOPED_TRACE(fmt::format("failing op {}", nth));
    const std::string copy = dir_.Join(fmt::format("ckpt{}", nth));
    fault->InjectError(io::ErrorInjection{io::kFaultAllOps & ~io::Mask(io::FaultOp::kRead),
                                          "ckpt", nth, io::kFailForever});
    Status s = Checkpoint(copy, nullptr, nullptr);
    SKIP_IF_NOT_SUPPORTED(s);
    completed = s.ok();
    fault->ClearFaults();
    ASSERT_TRUE(fault->DropUnsyncedData().ok());
    // The source's handles died with the crash: reopen it.
    db_.reset();
    OpenSource(fault);
    Options o = SmallOptions(GetParam());
    o.engine = "";
    o.create_if_missing = false;
    std::unique_ptr<Engine> opened;
    Status open = strata::Open(o, copy, &opened);
    if (completed) {
      ASSERT_TRUE(open.ok()) << open.ToString();
      EXPECT_EQ(ReadState(opened.get()), expected);
    } else {
      EXPECT_FALSE(fault->FileExists(copy));
      EXPECT_TRUE(open.IsNotFound()) << open.ToString();
    }
    // A leftover tmp directory is complete or says it is no database.
    std::vector<std::string> names;
    ASSERT_TRUE(fault->ListDir(dir_.path(), &names).ok());
    for (const std::string& name : names) {
      if (!name.starts_with(fmt::format("ckpt{}.tmp-", nth))) continue;
      std::unique_ptr<Engine> tmp;
      Status t = strata::Open(o, dir_.Join(name), &tmp);
      if (t.ok()) {
        EXPECT_EQ(ReadState(tmp.get()), expected) << name;
      }
    }
    ++points;
    ASSERT_LT(points, 500) << "the checkpoint never completes";
  }
  EXPECT_GT(points, 5);
}

INSTANTIATE_TEST_SUITE_P(Kinds, CheckpointTest, ::testing::ValuesIn(RegisteredEngineKinds()),
                         KindName);

}  // namespace
}  // namespace strata::snapshot::testing
