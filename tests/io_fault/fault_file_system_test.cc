// FaultFileSystem: power loss keeps exactly the durable state (data and
// names), injected errors hit exactly the chosen op, torn writes and flipped
// bits land exactly where asked.
#include "io/fault_file_system.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/posix_file_system.h"
#include "tests/testing/test_util.h"

namespace strata::io {
namespace {

class FaultFileSystemTest : public ::testing::Test {
 protected:
  FaultFileSystemTest()
      : posix_(std::make_shared<PosixFileSystem>()),
        fs_(std::make_shared<FaultFileSystem>(posix_)) {}

  std::string Path(const std::string& name) const { return dir_.Join(name); }

  // Creates `name` with `data` through the fault fs; optionally syncs data and dir.
  void Create(const std::string& name, const std::string& data, bool sync_data, bool sync_dir) {
    std::unique_ptr<WritableFile> file;
    ASSERT_TRUE(fs_->NewWritableFile(Path(name), FileOptions{}, &file).ok());
    ASSERT_TRUE(file->Append(data).ok());
    if (sync_data) {
      ASSERT_TRUE(file->Sync().ok());
    }
    ASSERT_TRUE(file->Close().ok());
    if (sync_dir) {
      ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
    }
  }

  // The real file, read around the fault fs.
  std::string Real(const std::string& name) {
    std::string data;
    Status s = ReadFileToString(posix_.get(), Path(name), &data);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return data;
  }
  bool Exists(const std::string& name) { return posix_->FileExists(Path(name)); }

  void Crash(const CrashOptions& options = CrashOptions{}) {
    Status s = fs_->DropUnsyncedData(options);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  testing::ScratchDir dir_;
  std::shared_ptr<PosixFileSystem> posix_;
  std::shared_ptr<FaultFileSystem> fs_;
};

// --- Power loss: data ------------------------------------------------------------

TEST_F(FaultFileSystemTest, CrashKeepsExactlyTheSyncedPrefix) {
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(Path("log"), FileOptions{}, &file).ok());
  ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
  ASSERT_TRUE(file->Append("AAAA").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append("BBBBBB").ok());
  EXPECT_EQ(Real("log"), "AAAABBBBBB");
  Crash();
  EXPECT_EQ(Real("log"), "AAAA");
  // The handle died with the "process".
  Status s = file->Append("C");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("crash"), std::string::npos);
}

TEST_F(FaultFileSystemTest, NeverSyncedFileInSyncedDirectoryIsEmpty) {
  Create("f", "data", /*sync_data=*/false, /*sync_dir=*/true);
  Crash();
  ASSERT_TRUE(Exists("f"));
  EXPECT_EQ(Real("f"), "");
}

TEST_F(FaultFileSystemTest, OverwritesAndTruncatesOfSyncedBytesAreUndone) {
  Create("f", "hello world", /*sync_data=*/true, /*sync_dir=*/true);
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("f"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->WriteAt(0, "HELLO").ok());
  ASSERT_TRUE(file->Truncate(3).ok());
  ASSERT_TRUE(file->WriteAt(8, "xyzxyz").ok());  // over the cut part and past the end
  ASSERT_TRUE(file->Allocate(0, 100).ok());
  EXPECT_EQ(Real("f").size(), 100u);
  Crash();
  EXPECT_EQ(Real("f"), "hello world");
}

TEST_F(FaultFileSystemTest, WriteAtAndSyncIsDurable) {
  Create("f", "", /*sync_data=*/true, /*sync_dir=*/true);
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("f"), FileOptions{}, &file).ok());
  std::vector<std::pair<uint64_t, std::string_view>> writes = {{0, "abc"}, {3, "def"}};
  ASSERT_TRUE(file->WriteAtAndSync(writes).ok());
  ASSERT_TRUE(file->Append("lost").ok());
  Crash();
  EXPECT_EQ(Real("f"), "abcdef");
}

TEST_F(FaultFileSystemTest, PreexistingFilesCountAsDurable) {
  ASSERT_TRUE(WriteFileAtomically(posix_.get(), Path("old"), "original").ok());
  std::unique_ptr<WritableFile> file;
  // NewWritableFile truncates an existing file: undone by the crash too.
  ASSERT_TRUE(fs_->NewWritableFile(Path("old"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("replacement").ok());
  Crash();
  EXPECT_EQ(Real("old"), "original");
}

TEST_F(FaultFileSystemTest, TrackingStartsAfreshAfterACrash) {
  Create("f", "one", /*sync_data=*/true, /*sync_dir=*/true);
  Crash();
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("f"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("two").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append("three").ok());
  Crash();
  EXPECT_EQ(Real("f"), "onetwo");
  EXPECT_EQ(fs_->stats().crashes, 2u);
}

// --- Power loss: names -------------------------------------------------------------

TEST_F(FaultFileSystemTest, CreatedFileDisappearsWithoutSyncDir) {
  Create("synced-data", "x", /*sync_data=*/true, /*sync_dir=*/false);
  Create("unsynced", "y", /*sync_data=*/false, /*sync_dir=*/false);
  Crash();
  EXPECT_FALSE(Exists("synced-data"));
  EXPECT_FALSE(Exists("unsynced"));
}

TEST_F(FaultFileSystemTest, SyncDirMakesOnlyThatDirectoryDurable) {
  ASSERT_TRUE(fs_->CreateDir(Path("sub")).ok());
  Create("top", "t", /*sync_data=*/true, /*sync_dir=*/false);
  Create("sub/inner", "i", /*sync_data=*/true, /*sync_dir=*/false);
  ASSERT_TRUE(fs_->SyncDir(Path("sub/")).ok());  // spelled with a trailing slash
  Crash();
  EXPECT_FALSE(Exists("top"));
  EXPECT_EQ(Real("sub/inner"), "i");
}

TEST_F(FaultFileSystemTest, LinkNeedsSyncDirAndSharesDurableContents) {
  ASSERT_TRUE(fs_->CreateDir(Path("sub")).ok());
  Create("a", "synced", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(fs_->LinkFile(Path("a"), Path("sub/kept")).ok());
  ASSERT_TRUE(fs_->SyncDir(Path("sub")).ok());
  ASSERT_TRUE(fs_->LinkFile(Path("a"), Path("sub/lost")).ok());
  EXPECT_EQ(fs_->stats().count(FaultOp::kLink), 2u);
  Crash();
  EXPECT_EQ(Real("a"), "synced");
  EXPECT_EQ(Real("sub/kept"), "synced");
  EXPECT_FALSE(Exists("sub/lost"));
}

TEST_F(FaultFileSystemTest, LinkOfUnsyncedDataIsRefusedAndLinkedFilesAreImmutable) {
  Create("unsynced", "x", /*sync_data=*/false, /*sync_dir=*/true);
  EXPECT_TRUE(fs_->LinkFile(Path("unsynced"), Path("b")).IsInvalidArgument());
  EXPECT_FALSE(Exists("b"));
  Create("a", "synced", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(fs_->LinkFile(Path("a"), Path("b")).ok());
  std::unique_ptr<WritableFile> file;
  EXPECT_TRUE(fs_->ReopenWritableFile(Path("b"), FileOptions{}, &file).IsNotSupported());
  EXPECT_TRUE(fs_->NewWritableFile(Path("a"), FileOptions{}, &file).IsNotSupported());
  EXPECT_EQ(Real("a"), "synced");
}

TEST_F(FaultFileSystemTest, RemovingTheSourceKeepsTheLink) {
  Create("a", "synced", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(fs_->LinkFile(Path("a"), Path("b")).ok());
  ASSERT_TRUE(fs_->RemoveFile(Path("a")).ok());
  ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
  Crash();
  EXPECT_FALSE(Exists("a"));
  EXPECT_EQ(Real("b"), "synced");
}

TEST_F(FaultFileSystemTest, InjectedLinkFaultChangesNothing) {
  Create("a", "synced", /*sync_data=*/true, /*sync_dir=*/true);
  fs_->InjectError(ErrorInjection{Mask(FaultOp::kLink), "", 1, 1});
  EXPECT_TRUE(fs_->LinkFile(Path("a"), Path("b")).IsIOError());
  EXPECT_FALSE(Exists("b"));
}

TEST_F(FaultFileSystemTest, RenameExchangeCarriesPendingNames) {
  ASSERT_TRUE(fs_->CreateDir(Path("x")).ok());
  ASSERT_TRUE(fs_->CreateDir(Path("y")).ok());
  Create("x/durable", "d", /*sync_data=*/true, /*sync_dir=*/false);
  ASSERT_TRUE(fs_->SyncDir(Path("x")).ok());
  Create("y/pending", "p", /*sync_data=*/true, /*sync_dir=*/false);
  Status s = fs_->RenameExchange(Path("x"), Path("y"));
  if (s.IsNotSupported()) GTEST_SKIP() << s.ToString();
  ASSERT_TRUE(s.ok()) << s.ToString();
  Crash();
  EXPECT_EQ(Real("y/durable"), "d");
  EXPECT_FALSE(Exists("x/pending"));  // its directory was never synced
  EXPECT_FALSE(Exists("y/pending"));
}

TEST_F(FaultFileSystemTest, RenameIsUndoneWithoutSyncDir) {
  Create("a", "contents", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(fs_->Rename(Path("a"), Path("b")).ok());
  EXPECT_TRUE(Exists("b"));
  Crash();
  EXPECT_EQ(Real("a"), "contents");
  EXPECT_FALSE(Exists("b"));
}

TEST_F(FaultFileSystemTest, RenameIsKeptWithSyncDir) {
  Create("a", "contents", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(fs_->Rename(Path("a"), Path("b")).ok());
  ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
  Crash();
  EXPECT_FALSE(Exists("a"));
  EXPECT_EQ(Real("b"), "contents");
}

TEST_F(FaultFileSystemTest, RenameOverAFileBringsTheReplacedFileBack) {
  Create("CURRENT", "old", /*sync_data=*/true, /*sync_dir=*/true);
  Create("CURRENT.tmp", "new", /*sync_data=*/true, /*sync_dir=*/false);
  ASSERT_TRUE(fs_->Rename(Path("CURRENT.tmp"), Path("CURRENT")).ok());
  Crash();
  EXPECT_EQ(Real("CURRENT"), "old");
  EXPECT_FALSE(Exists("CURRENT.tmp"));  // never durably named
  // The whole WriteFileAtomically protocol is durable.
  ASSERT_TRUE(WriteFileAtomically(fs_.get(), Path("CURRENT"), "newer").ok());
  Crash();
  EXPECT_EQ(Real("CURRENT"), "newer");
}

TEST_F(FaultFileSystemTest, RenameAcrossDirectoriesNeedsBothSyncs) {
  ASSERT_TRUE(fs_->CreateDir(Path("d1")).ok());
  ASSERT_TRUE(fs_->CreateDir(Path("d2")).ok());
  Create("d1/f", "payload", /*sync_data=*/true, /*sync_dir=*/false);
  ASSERT_TRUE(fs_->SyncDir(Path("d1")).ok());
  ASSERT_TRUE(fs_->Rename(Path("d1/f"), Path("d2/f")).ok());
  ASSERT_TRUE(fs_->SyncDir(Path("d2")).ok());  // d1 not synced: the old name survives too
  Crash();
  EXPECT_EQ(Real("d1/f"), "payload");
  EXPECT_EQ(Real("d2/f"), "payload");
}

TEST_F(FaultFileSystemTest, RemovedFileComesBackWithItsSyncedData) {
  std::unique_ptr<WritableFile> file;
  Create("x", "synced", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("x"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("-unsynced").ok());
  ASSERT_TRUE(fs_->RemoveFile(Path("x")).ok());
  EXPECT_FALSE(Exists("x"));
  Crash();
  EXPECT_EQ(Real("x"), "synced");
}

TEST_F(FaultFileSystemTest, RemoveIsKeptWithSyncDir) {
  Create("x", "synced", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(fs_->RemoveFile(Path("x")).ok());
  ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
  Crash();
  EXPECT_FALSE(Exists("x"));
}

TEST_F(FaultFileSystemTest, CreateThenRemoveWithoutSyncLeavesNothing) {
  Create("tmp", "t", /*sync_data=*/true, /*sync_dir=*/false);
  ASSERT_TRUE(fs_->RemoveFile(Path("tmp")).ok());
  Crash();
  EXPECT_FALSE(Exists("tmp"));
  std::vector<std::string> names;
  ASSERT_TRUE(posix_->ListDir(dir_.path(), &names).ok());
  EXPECT_TRUE(names.empty()) << fmt::format("{}", fmt::join(names, ","));
}

TEST_F(FaultFileSystemTest, RenamedDirectoryCarriesItsPendingNames) {
  ASSERT_TRUE(fs_->CreateDir(Path("ckpt.tmp")).ok());
  Create("ckpt.tmp/kept", "k", /*sync_data=*/true, /*sync_dir=*/false);
  ASSERT_TRUE(fs_->SyncDir(Path("ckpt.tmp")).ok());
  Create("ckpt.tmp/unsynced-name", "u", /*sync_data=*/true, /*sync_dir=*/false);
  ASSERT_TRUE(fs_->Rename(Path("ckpt.tmp"), Path("ckpt")).ok());
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("ckpt/kept"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("-lost").ok());
  Crash();
  EXPECT_EQ(Real("ckpt/kept"), "k");
  EXPECT_FALSE(Exists("ckpt/unsynced-name"));
}

TEST_F(FaultFileSystemTest, MissingPathsAreNotFoundAndChangeNothing) {
  EXPECT_TRUE(fs_->Rename(Path("nope"), Path("x")).IsNotFound());
  EXPECT_TRUE(fs_->RemoveFile(Path("nope")).IsNotFound());
  std::unique_ptr<WritableFile> file;
  EXPECT_TRUE(fs_->ReopenWritableFile(Path("nope"), FileOptions{}, &file).IsNotFound());
  EXPECT_TRUE(fs_->FileSize(Path("nope")).status().IsNotFound());
  Crash();
  EXPECT_FALSE(Exists("nope"));
  EXPECT_FALSE(Exists("x"));
}

TEST_F(FaultFileSystemTest, ReadersOpenedBeforeACrashAreDead) {
  Create("f", "abc", /*sync_data=*/true, /*sync_dir=*/true);
  std::unique_ptr<RandomAccessFile> reader;
  std::unique_ptr<SequentialFile> seq;
  ASSERT_TRUE(fs_->NewRandomAccessFile(Path("f"), FileOptions{}, &reader).ok());
  ASSERT_TRUE(fs_->NewSequentialFile(Path("f"), FileOptions{}, &seq).ok());
  Crash();
  char buf[3];
  size_t n = 0;
  EXPECT_TRUE(reader->Read(0, 3, buf, &n).IsIOError());
  EXPECT_TRUE(seq->Read(3, buf, &n).IsIOError());
  EXPECT_TRUE(seq->Skip(1).IsIOError());
  ASSERT_TRUE(fs_->NewRandomAccessFile(Path("f"), FileOptions{}, &reader).ok());
  ASSERT_TRUE(reader->Read(0, 3, buf, &n).ok());
  EXPECT_EQ(std::string(buf, n), "abc");
}

TEST_F(FaultFileSystemTest, ConcurrentWritersThenCrash) {
  constexpr int kThreads = 4;
  constexpr int kRecords = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([this, t] {
      std::unique_ptr<WritableFile> file;
      ASSERT_TRUE(fs_->NewWritableFile(Path(fmt::format("w{}", t)), FileOptions{}, &file).ok());
      for (int i = 0; i < kRecords; i++) {
        ASSERT_TRUE(file->Append("r").ok());
        if (i == kRecords / 2 - 1) {
          ASSERT_TRUE(file->Sync().ok());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
  Crash();
  for (int t = 0; t < kThreads; t++) {
    EXPECT_EQ(Real(fmt::format("w{}", t)), std::string(kRecords / 2, 'r'));
  }
  EXPECT_EQ(fs_->stats().bytes_written, uint64_t{kThreads} * kRecords);
}

// --- Error injection ---------------------------------------------------------------

TEST_F(FaultFileSystemTest, NthWriteFailsAndOnlyIt) {
  Create("other", "", /*sync_data=*/false, /*sync_dir=*/false);
  std::unique_ptr<WritableFile> file;
  std::unique_ptr<WritableFile> other;
  ASSERT_TRUE(fs_->NewWritableFile(Path("target"), FileOptions{}, &file).ok());
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("other"), FileOptions{}, &other).ok());
  fs_->InjectError(ErrorInjection{.ops = Mask(FaultOp::kWrite), .path_contains = "target", .nth = 3});
  ASSERT_TRUE(file->Append("1").ok());
  ASSERT_TRUE(other->Append("x").ok());  // other path: not counted
  ASSERT_TRUE(file->Sync().ok());        // other kind: not counted
  ASSERT_TRUE(file->Append("2").ok());
  Status s = file->Append("3");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("injected write fault"), std::string::npos) << s.ToString();
  EXPECT_TRUE(file->Append("4").ok());  // a write error does not fail the file
  EXPECT_EQ(Real("target"), "124");
  EXPECT_EQ(fs_->stats().injected_errors, 1u);
}

TEST_F(FaultFileSystemTest, FailedSyncFailsTheFileForGood) {
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(Path("wal"), FileOptions{}, &file).ok());
  ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
  ASSERT_TRUE(file->Append("durable").ok());
  ASSERT_TRUE(file->Sync().ok());
  fs_->InjectError(ErrorInjection{.ops = Mask(FaultOp::kSync), .nth = 1});
  ASSERT_TRUE(file->Append("-pending").ok());
  EXPECT_TRUE(file->Sync().IsIOError());
  fs_->ClearFaults();
  EXPECT_TRUE(file->Append("more").IsIOError());
  EXPECT_TRUE(file->Sync().IsIOError());
  EXPECT_TRUE(file->SyncAll().IsIOError());
  EXPECT_TRUE(file->WriteAt(0, "x").IsIOError());
  EXPECT_TRUE(file->Truncate(0).IsIOError());
  // The failed sync made nothing durable.
  Crash();
  EXPECT_EQ(Real("wal"), "durable");
}

TEST_F(FaultFileSystemTest, WriteAtAndSyncSkipsTheSyncAfterAFailedWrite) {
  Create("f", "base", /*sync_data=*/true, /*sync_dir=*/true);
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("f"), FileOptions{}, &file).ok());
  fs_->InjectError(ErrorInjection{.ops = Mask(FaultOp::kWrite), .nth = 2});
  std::vector<std::pair<uint64_t, std::string_view>> writes = {{4, "ab"}, {6, "cd"}};
  EXPECT_TRUE(file->WriteAtAndSync(writes).IsIOError());
  EXPECT_EQ(fs_->stats().count(FaultOp::kSync), 1u);  // only Create's sync ran
  Crash();
  EXPECT_EQ(Real("f"), "base");
}

TEST_F(FaultFileSystemTest, MetadataFaultsByKindAndPath) {
  Create("a", "1", /*sync_data=*/true, /*sync_dir=*/true);
  Create("b", "2", /*sync_data=*/true, /*sync_dir=*/true);
  fs_->InjectError(ErrorInjection{.ops = Mask(FaultOp::kRename) | Mask(FaultOp::kSyncDir),
                                  .nth = 2,
                                  .fail_count = kFailForever});
  ASSERT_TRUE(fs_->Rename(Path("a"), Path("c")).ok());  // #1
  EXPECT_TRUE(fs_->SyncDir(dir_.path()).IsIOError());   // #2
  EXPECT_TRUE(fs_->Rename(Path("b"), Path("d")).IsIOError());
  EXPECT_TRUE(Exists("b"));  // the failed rename did nothing
  EXPECT_TRUE(fs_->RemoveFile(Path("b")).ok());  // other kinds pass
  EXPECT_EQ(fs_->stats().injected_errors, 2u);
  fs_->InjectError(ErrorInjection{.ops = kFaultMetadataOps, .path_contains = "nope", .nth = 1});
  EXPECT_TRUE(fs_->SyncDir(dir_.path()).ok());
  fs_->InjectError(ErrorInjection{.ops = Mask(FaultOp::kOpen), .nth = 1});
  std::unique_ptr<RandomAccessFile> reader;
  EXPECT_TRUE(fs_->NewRandomAccessFile(Path("c"), FileOptions{}, &reader).IsIOError());
  EXPECT_EQ(reader, nullptr);
}

TEST_F(FaultFileSystemTest, ReadFaults) {
  Create("f", "0123456789", /*sync_data=*/true, /*sync_dir=*/true);
  std::unique_ptr<RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(Path("f"), FileOptions{}, &reader).ok());
  fs_->InjectError(ErrorInjection{.ops = Mask(FaultOp::kRead), .nth = 2});
  char buf[4];
  std::vector<ReadRequest> batch(3);
  for (size_t i = 0; i < batch.size(); i++) {
    batch[i].offset = i * 3;
    batch[i].length = 3;
    batch[i].buffer = buf;
  }
  EXPECT_TRUE(reader->ReadBatch(batch).IsIOError());
  EXPECT_TRUE(batch[0].status.ok());
  EXPECT_TRUE(batch[1].status.IsIOError());
  EXPECT_TRUE(batch[2].status.ok());
  EXPECT_EQ(batch[2].bytes_read, 3u);
}

// --- Torn writes ------------------------------------------------------------------

TEST_F(FaultFileSystemTest, TornWriteLeavesExactlyThePrefix) {
  Create("f", "head|", /*sync_data=*/true, /*sync_dir=*/true);
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("f"), FileOptions{}, &file).ok());
  fs_->TearNextWrite(TearSpec{.path_contains = "f", .prefix_bytes = 3});
  Status s = file->Append("abcdefgh");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("3 of 8 bytes"), std::string::npos) << s.ToString();
  EXPECT_EQ(Real("f"), "head|abc");
  EXPECT_TRUE(file->Append("ok").ok());  // one tear only
  EXPECT_EQ(fs_->stats().torn_writes, 1u);
}

TEST_F(FaultFileSystemTest, SilentTearKeepsThePrefixAtTheCrash) {
  Create("f", "A", /*sync_data=*/true, /*sync_dir=*/true);
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("f"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("bb").ok());
  fs_->TearNextWrite(TearSpec{.path_contains = "f", .prefix_bytes = 2, .silent = true});
  ASSERT_TRUE(file->Append("CCCC").ok());
  ASSERT_TRUE(file->Append("dd").ok());
  EXPECT_EQ(Real("f"), "AbbCCCCdd");
  Crash();
  EXPECT_EQ(Real("f"), "AbbCC");
}

TEST_F(FaultFileSystemTest, SilentTearIsMootAfterASync) {
  Create("f", "", /*sync_data=*/true, /*sync_dir=*/true);
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("f"), FileOptions{}, &file).ok());
  fs_->TearNextWrite(TearSpec{.prefix_bytes = 1, .silent = true});
  ASSERT_TRUE(file->Append("whole").ok());
  ASSERT_TRUE(file->Sync().ok());
  Crash();
  EXPECT_EQ(Real("f"), "whole");
}

TEST_F(FaultFileSystemTest, RandomTornTailIsAPrefixAndReplaysFromTheSeed) {
  const uint64_t seed = testing::TestSeed(42);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const std::string synced = "synced:";
  const std::string unsynced(1000, 'u');
  std::vector<std::string> results;
  for (int run = 0; run < 2; run++) {
    Create("f", synced, /*sync_data=*/true, /*sync_dir=*/true);
    std::unique_ptr<WritableFile> file;
    ASSERT_TRUE(fs_->ReopenWritableFile(Path("f"), FileOptions{}, &file).ok());
    ASSERT_TRUE(file->Append(unsynced).ok());
    Crash(CrashOptions{.keep_random_unsynced_prefix = true, .seed = seed});
    results.push_back(Real("f"));
    EXPECT_EQ(results.back(), (synced + unsynced).substr(0, results.back().size()));
    EXPECT_GE(results.back().size(), synced.size());
  }
  EXPECT_EQ(results[0], results[1]);
}

// --- Bit flips ---------------------------------------------------------------------

TEST_F(FaultFileSystemTest, FlippedBitIsSeenOnlyAtItsOffset) {
  const std::string data = "0123456789abcdef";
  Create("blk", data, /*sync_data=*/true, /*sync_dir=*/true);
  fs_->FlipBitOnRead("blk", 5, 3);
  std::string seen;
  ASSERT_TRUE(ReadFileToString(fs_.get(), Path("blk"), &seen).ok());
  ASSERT_EQ(seen.size(), data.size());
  for (size_t i = 0; i < data.size(); i++) {
    EXPECT_EQ(seen[i] ^ data[i], i == 5 ? 0x08 : 0) << "offset " << i;
  }
  std::unique_ptr<RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(Path("blk"), FileOptions{}, &reader).ok());
  char buf[4];
  size_t n = 0;
  ASSERT_TRUE(reader->Read(6, 4, buf, &n).ok());
  EXPECT_EQ(std::string(buf, n), "6789");
  ASSERT_TRUE(reader->Read(4, 2, buf, &n).ok());
  EXPECT_EQ(buf[1], '5' ^ 0x08);
  // Sequential reads see it at the same file offset.
  std::unique_ptr<SequentialFile> seq;
  ASSERT_TRUE(fs_->NewSequentialFile(Path("blk"), FileOptions{}, &seq).ok());
  ASSERT_TRUE(seq->Skip(2).ok());
  ASSERT_TRUE(seq->Read(4, buf, &n).ok());
  EXPECT_EQ(std::string(buf, n), std::string("234") + static_cast<char>('5' ^ 0x08));
  EXPECT_EQ(Real("blk"), data);  // the disk is untouched
  EXPECT_EQ(fs_->stats().flipped_bits, 3u);
  fs_->ClearFaults();
  ASSERT_TRUE(ReadFileToString(fs_.get(), Path("blk"), &seen).ok());
  EXPECT_EQ(seen, data);
}

TEST_F(FaultFileSystemTest, CorruptFileAtChangesTheRealFile) {
  Create("blk", "abc", /*sync_data=*/true, /*sync_dir=*/true);
  ASSERT_TRUE(fs_->CorruptFileAt(Path("blk"), 1, 0).ok());
  EXPECT_EQ(Real("blk"), std::string("a") + static_cast<char>('b' ^ 1) + "c");
  EXPECT_TRUE(fs_->CorruptFileAt(Path("blk"), 3, 0).IsInvalidArgument());
  EXPECT_TRUE(fs_->CorruptFileAt(Path("missing"), 0, 0).IsNotFound());
  // Damage to synced bytes survives a crash that reverts an overwrite of them.
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("blk"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->WriteAt(0, "XYZ").ok());
  ASSERT_TRUE(fs_->CorruptFileAt(Path("blk"), 2, 1).ok());
  Crash();
  EXPECT_EQ(Real("blk"),
            std::string("a") + static_cast<char>('b' ^ 1) + static_cast<char>('c' ^ 2));
}

// --- Counters ----------------------------------------------------------------------

TEST_F(FaultFileSystemTest, CountersByKindAndBytes) {
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(Path("f"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("12345").ok());
  ASSERT_TRUE(file->WriteAt(5, "678").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append("90").ok());
  ASSERT_TRUE(fs_->SyncDir(dir_.path()).ok());
  ASSERT_TRUE(fs_->Rename(Path("f"), Path("g")).ok());
  std::string data;
  ASSERT_TRUE(ReadFileToString(fs_.get(), Path("g"), &data).ok());
  FaultStats stats = fs_->stats();
  EXPECT_EQ(stats.count(FaultOp::kOpen), 2u);
  EXPECT_EQ(stats.count(FaultOp::kWrite), 3u);
  EXPECT_EQ(stats.count(FaultOp::kSync), 1u);
  EXPECT_EQ(stats.count(FaultOp::kSyncDir), 1u);
  EXPECT_EQ(stats.count(FaultOp::kRename), 1u);
  EXPECT_EQ(stats.count(FaultOp::kRead), 1u);
  EXPECT_EQ(stats.bytes_written, 10u);
  EXPECT_EQ(stats.bytes_synced, 8u);
  EXPECT_EQ(stats.bytes_read, 10u);
  fs_->ResetStats();
  EXPECT_EQ(fs_->stats().count(FaultOp::kWrite), 0u);
  EXPECT_EQ(fs_->stats().bytes_written, 0u);
  EXPECT_EQ(fs_->name(), "fault(posix)");
}

}  // namespace
}  // namespace strata::io
