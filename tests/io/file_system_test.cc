// The FileSystem contract, run against the posix and the io_uring file
// systems with the same expectations, so that both give identical results.
#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "io/aligned_buffer.h"
#include "tests/io/io_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::testing {
namespace {

using io::FileOptions;
using io::ReadRequest;

class FileSystemTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() != Backend::kPosix && !io::UringAvailable()) {
      GTEST_SKIP() << "io_uring unavailable on this kernel";
    }
    fs_ = MakeFileSystem(GetParam());
  }

  // Creates `path` holding `data` through the file system under test.
  void WriteFile(const std::string& path, std::string_view data) {
    std::unique_ptr<io::WritableFile> file;
    ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
    ASSERT_TRUE(file->Append(data).ok());
    ASSERT_TRUE(file->Close().ok());
  }

  std::string Pattern(size_t bytes, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out(bytes, '\0');
    for (char& c : out) c = static_cast<char>('a' + rng() % 26);
    return out;
  }

  ScratchDir dir_;
  std::shared_ptr<io::FileSystem> fs_;
};

TEST_P(FileSystemTest, AppendWriteAtRead) {
  const std::string path = dir_.Join("f");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("hello").ok());
  ASSERT_TRUE(file->WriteAt(10, "world").ok());
  EXPECT_EQ(file->size(), 15u);
  ASSERT_TRUE(file->WriteAt(1, "EL").ok());  // inside: size unchanged
  EXPECT_EQ(file->size(), 15u);
  ASSERT_TRUE(file->Append("!").ok());
  EXPECT_EQ(file->size(), 16u);
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(ReadWholeFile(path), std::string("hELlo\0\0\0\0\0world!", 16));

  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, FileOptions{}, &reader).ok());
  std::string buf(16, 'x');
  size_t n = 0;
  ASSERT_TRUE(reader->Read(0, 16, buf.data(), &n).ok());
  EXPECT_EQ(n, 16u);
  EXPECT_EQ(buf, std::string("hELlo\0\0\0\0\0world!", 16));
  EXPECT_EQ(*reader->Size(), 16u);
  EXPECT_EQ(reader->path(), path);
}

TEST_P(FileSystemTest, ReadAtEndOfFileIsShort) {
  const std::string path = dir_.Join("f");
  const std::string data = Pattern(100, 1);
  WriteFile(path, data);
  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, FileOptions{}, &reader).ok());
  std::string buf(64, '\0');
  size_t n = 99;
  ASSERT_TRUE(reader->Read(80, 50, buf.data(), &n).ok());
  EXPECT_EQ(n, 20u);
  EXPECT_EQ(buf.substr(0, 20), data.substr(80));
  ASSERT_TRUE(reader->Read(100, 10, buf.data(), &n).ok());
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(reader->Read(1 << 20, 10, buf.data(), &n).ok());
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(reader->Read(5, 0, buf.data(), &n).ok());
  EXPECT_EQ(n, 0u);
}

TEST_P(FileSystemTest, ReadBatchManyOffsetsIncludingPastEnd) {
  const uint64_t seed = TestSeed(42);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const std::string path = dir_.Join("f");
  const size_t file_bytes = 64 * 1024 + 123;
  const std::string data = Pattern(file_bytes, seed);
  WriteFile(path, data);
  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, FileOptions{}, &reader).ok());

  // Far more requests than the uring variants' queue depth (8 and 1).
  constexpr size_t kRequests = 300;
  std::mt19937_64 rng(seed);
  std::vector<std::string> buffers(kRequests);
  std::vector<ReadRequest> requests(kRequests);
  for (size_t i = 0; i < kRequests; ++i) {
    const size_t length = rng() % 5000;  // some zero-length
    buffers[i].assign(length, '\0');
    requests[i].offset = rng() % (file_bytes + 8192);  // some past the end
    requests[i].length = length;
    requests[i].buffer = buffers[i].data();
    requests[i].bytes_read = 777;  // must be overwritten
  }
  ASSERT_TRUE(reader->ReadBatch(requests).ok());
  for (size_t i = 0; i < kRequests; ++i) {
    const ReadRequest& req = requests[i];
    SCOPED_TRACE(fmt::format("request {} offset {} length {}", i, req.offset, req.length));
    ASSERT_TRUE(req.status.ok()) << req.status.ToString();
    const size_t expect =
        req.offset >= file_bytes ? 0 : std::min<size_t>(req.length, file_bytes - req.offset);
    ASSERT_EQ(req.bytes_read, expect);
    ASSERT_EQ(buffers[i].substr(0, expect),
              data.substr(std::min<size_t>(req.offset, file_bytes), expect));
  }
  // An empty batch is fine.
  EXPECT_TRUE(reader->ReadBatch({}).ok());
}

TEST_P(FileSystemTest, WriteAtAndSyncAppliesWritesInOrder) {
  const std::string path = dir_.Join("f");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("0123456789").ok());
  // 70 writes: more than one linked chain; overlapping writes must land in order.
  std::vector<std::string> payloads;
  for (int i = 0; i < 70; ++i) payloads.push_back(fmt::format("<{:03}>", i));
  std::vector<std::pair<uint64_t, std::string_view>> writes;
  for (int i = 0; i < 70; ++i) writes.emplace_back(10 + 2 * i, payloads[i]);
  ASSERT_TRUE(file->WriteAtAndSync(writes).ok());
  EXPECT_EQ(file->size(), 10u + 2 * 69 + 5);
  std::string expect = "0123456789";
  for (int i = 0; i < 70; ++i) {
    expect.resize(std::max<size_t>(expect.size(), 10 + 2 * i + 5));
    expect.replace(10 + 2 * i, 5, payloads[i]);
  }
  EXPECT_EQ(ReadWholeFile(path), expect);
  // Nothing to write: just the sync.
  EXPECT_TRUE(file->WriteAtAndSync({}).ok());
  EXPECT_TRUE(file->SyncAll().ok());
}

TEST_P(FileSystemTest, DirectIoAlignedWorks) {
  const std::string path = dir_.Join("direct");
  FileOptions direct{.direct = true};
  std::unique_ptr<io::WritableFile> file;
  Status s = fs_->NewWritableFile(path, direct, &file);
  if (!s.ok()) GTEST_SKIP() << "O_DIRECT not supported here: " << s.ToString();
  io::AlignedBuffer block(2 * io::kDirectIoAlignment);
  block.Append(Pattern(5000, 3));
  block.PadToAlignment();
  ASSERT_EQ(block.size(), 2 * io::kDirectIoAlignment);
  ASSERT_TRUE(file->Append(block.view()).ok());
  const std::pair<uint64_t, std::string_view> tail(2 * io::kDirectIoAlignment, block.view());
  ASSERT_TRUE(file->WriteAtAndSync(std::span(&tail, 1)).ok());
  // Cut the file at an unaligned size: direct reads then end short.
  ASSERT_TRUE(file->Truncate(4 * io::kDirectIoAlignment - 100).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());

  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, direct, &reader).ok());
  io::AlignedBuffer out(4 * io::kDirectIoAlignment);
  size_t n = 0;
  ASSERT_TRUE(reader->Read(0, out.capacity(), out.data(), &n).ok());
  EXPECT_EQ(n, 4 * io::kDirectIoAlignment - 100);
  EXPECT_EQ(std::string_view(out.data(), 2 * io::kDirectIoAlignment), block.view());
  ASSERT_TRUE(
      reader->Read(3 * io::kDirectIoAlignment, io::kDirectIoAlignment, out.data(), &n).ok());
  EXPECT_EQ(n, io::kDirectIoAlignment - 100);
  ASSERT_TRUE(
      reader->Read(8 * io::kDirectIoAlignment, io::kDirectIoAlignment, out.data(), &n).ok());
  EXPECT_EQ(n, 0u);
}

TEST_P(FileSystemTest, DirectIoMisalignedIsInvalidArgument) {
  const std::string path = dir_.Join("direct");
  FileOptions direct{.direct = true};
  std::unique_ptr<io::WritableFile> file;
  Status s = fs_->NewWritableFile(path, direct, &file);
  if (!s.ok()) GTEST_SKIP() << "O_DIRECT not supported here: " << s.ToString();
  io::AlignedBuffer buf(3 * io::kDirectIoAlignment);
  buf.Resize(buf.capacity());
  const std::string_view aligned(buf.data(), io::kDirectIoAlignment);
  EXPECT_TRUE(file->WriteAt(0, aligned).ok());
  EXPECT_TRUE(file->WriteAt(100, aligned).IsInvalidArgument());               // offset
  EXPECT_TRUE(file->WriteAt(0, aligned.substr(0, 100)).IsInvalidArgument());  // length
  EXPECT_TRUE(file->WriteAt(0, std::string_view(buf.data() + 1, io::kDirectIoAlignment))
                  .IsInvalidArgument());  // buffer
  const std::pair<uint64_t, std::string_view> bad[] = {{0, aligned}, {7, aligned}};
  EXPECT_TRUE(file->WriteAtAndSync(bad).IsInvalidArgument());
  EXPECT_TRUE(file->Append(aligned.substr(0, 10)).IsInvalidArgument());
  EXPECT_EQ(file->size(), io::kDirectIoAlignment);  // nothing else was written
  ASSERT_TRUE(file->Close().ok());

  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, direct, &reader).ok());
  size_t n = 0;
  EXPECT_TRUE(reader->Read(1, io::kDirectIoAlignment, buf.data(), &n).IsInvalidArgument());
  EXPECT_TRUE(reader->Read(0, 10, buf.data(), &n).IsInvalidArgument());
  EXPECT_TRUE(reader->Read(0, io::kDirectIoAlignment, buf.data() + 8, &n).IsInvalidArgument());
  ReadRequest requests[2];
  requests[0] = ReadRequest{.offset = 0, .length = io::kDirectIoAlignment, .buffer = buf.data()};
  requests[1] = ReadRequest{.offset = 3, .length = io::kDirectIoAlignment, .buffer = buf.data()};
  Status batch = reader->ReadBatch(requests);
  EXPECT_TRUE(batch.IsInvalidArgument());
  EXPECT_TRUE(requests[0].status.ok());
  EXPECT_EQ(requests[0].bytes_read, io::kDirectIoAlignment);
  EXPECT_TRUE(requests[1].status.IsInvalidArgument());
}

TEST_P(FileSystemTest, AllocateTruncateAndSize) {
  const std::string path = dir_.Join("f");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Allocate(0, 1 << 20).ok());
  EXPECT_EQ(file->size(), 1u << 20);
  EXPECT_EQ(*fs_->FileSize(path), 1u << 20);
  ASSERT_TRUE(file->Truncate(100).ok());
  EXPECT_EQ(file->size(), 100u);
  EXPECT_EQ(*fs_->FileSize(path), 100u);
  ASSERT_TRUE(file->Append("x").ok());
  EXPECT_EQ(file->size(), 101u);
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(ReadWholeFile(path), std::string(100, '\0') + "x");
}

// DataEnd: bytes past it read as zeros; data is never placed past it. On
// ext4 (this project's disks) a fallocated, never written tail is reported.
TEST_P(FileSystemTest, DataEndSkipsOnlyZeros) {
  const std::string path = dir_.Join("f");
  constexpr uint64_t kData = 3 * 4096 + 100;
  constexpr uint64_t kSize = 1 << 20;
  {
    std::unique_ptr<io::WritableFile> file;
    ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
    ASSERT_TRUE(file->Allocate(0, kSize).ok());
    ASSERT_TRUE(file->WriteAt(0, std::string(kData, 'd')).ok());
    ASSERT_TRUE(file->Sync().ok());
    ASSERT_TRUE(file->Close().ok());
  }
  std::unique_ptr<io::RandomAccessFile> file;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, FileOptions{}, &file).ok());
  auto end = file->DataEnd();
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_GE(*end, kData);
  EXPECT_LE(*end, kSize);
  const std::string all = ReadWholeFile(path);
  ASSERT_EQ(all.size(), kSize);
  EXPECT_EQ(all.find_first_not_of('\0', *end), std::string::npos);
  struct statfs fs_info;
  ASSERT_EQ(::statfs(dir_.path().c_str(), &fs_info), 0);
  if (fs_info.f_type == EXT4_SUPER_MAGIC) {
    EXPECT_EQ(*end, 4 * 4096u);
  }
  // Data after the unwritten part moves the end to it.
  {
    std::unique_ptr<io::WritableFile> w;
    ASSERT_TRUE(fs_->ReopenWritableFile(path, FileOptions{}, &w).ok());
    ASSERT_TRUE(w->WriteAt(kSize - 10, "tail bytes").ok());
    ASSERT_TRUE(w->Sync().ok());
  }
  end = file->DataEnd();
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, kSize);
}

TEST_P(FileSystemTest, ReopenKeepsSize) {
  const std::string path = dir_.Join("f");
  WriteFile(path, "abcdefg");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->ReopenWritableFile(path, FileOptions{}, &file).ok());
  EXPECT_EQ(file->size(), 7u);
  ASSERT_TRUE(file->Append("hij").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(ReadWholeFile(path), "abcdefghij");
  EXPECT_TRUE(fs_->ReopenWritableFile(dir_.Join("missing"), FileOptions{}, &file).IsNotFound());
}

TEST_P(FileSystemTest, ClosedFileIsInvalidArgument) {
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(dir_.Join("f"), FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_TRUE(file->Close().ok());
  EXPECT_TRUE(file->Append("x").IsInvalidArgument());
  EXPECT_TRUE(file->Sync().IsInvalidArgument());
  EXPECT_TRUE(file->Truncate(0).IsInvalidArgument());
}

ino_t Inode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST_P(FileSystemTest, LinkFileSharesTheInode) {
  WriteFile(dir_.Join("a"), "linked bytes");
  ASSERT_TRUE(fs_->LinkFile(dir_.Join("a"), dir_.Join("b")).ok());
  EXPECT_EQ(Inode(dir_.Join("a")), Inode(dir_.Join("b")));
  std::string data;
  ASSERT_TRUE(io::ReadFileToString(fs_.get(), dir_.Join("b"), &data).ok());
  EXPECT_EQ(data, "linked bytes");
  // Removing one name leaves the other.
  ASSERT_TRUE(fs_->RemoveFile(dir_.Join("a")).ok());
  ASSERT_TRUE(io::ReadFileToString(fs_.get(), dir_.Join("b"), &data).ok());
  EXPECT_EQ(data, "linked bytes");
  // An existing target or a missing source is an error, not NotSupported.
  WriteFile(dir_.Join("c"), "c");
  Status s = fs_->LinkFile(dir_.Join("b"), dir_.Join("c"));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  s = fs_->LinkFile(dir_.Join("missing"), dir_.Join("d"));
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.IsNotSupported()) << s.ToString();
}

TEST_P(FileSystemTest, LinkOrCopyFileCopiesWhereLinksAreNotSupported) {
  // /dev/shm is another file system (tmpfs) than the scratch directory
  // whenever the scratch directory is on disk: link(2) fails with EXDEV.
  const std::string shm = fmt::format("/dev/shm/strata-link-test-{}", ::getpid());
  ASSERT_TRUE(fs_->CreateDir(shm).ok());
  WriteFile(dir_.Join("a"), "cross device");
  bool linked = true;
  Status s = io::LinkOrCopyFile(fs_.get(), dir_.Join("a"), io::JoinPath(shm, "a"), &linked);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string data;
  ASSERT_TRUE(io::ReadFileToString(fs_.get(), io::JoinPath(shm, "a"), &data).ok());
  EXPECT_EQ(data, "cross device");
  struct stat a;
  struct stat b;
  ASSERT_EQ(::stat(dir_.Join("a").c_str(), &a), 0);
  ASSERT_EQ(::stat(io::JoinPath(shm, "a").c_str(), &b), 0);
  EXPECT_EQ(linked, a.st_dev == b.st_dev);  // copied exactly when devices differ
  if (a.st_dev != b.st_dev) {
    EXPECT_TRUE(fs_->LinkFile(dir_.Join("a"), io::JoinPath(shm, "b")).IsNotSupported());
  }
  ASSERT_TRUE(fs_->RemoveFile(io::JoinPath(shm, "a")).ok());
  ASSERT_TRUE(fs_->RemoveDir(shm).ok());
}

TEST_P(FileSystemTest, RenameExchangeSwapsTwoDirectories) {
  ASSERT_TRUE(fs_->CreateDir(dir_.Join("x")).ok());
  ASSERT_TRUE(fs_->CreateDir(dir_.Join("y")).ok());
  WriteFile(dir_.Join("x/in-x"), "x");
  WriteFile(dir_.Join("y/in-y"), "y");
  Status s = fs_->RenameExchange(dir_.Join("x"), dir_.Join("y"));
  if (s.IsNotSupported()) GTEST_SKIP() << s.ToString();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(fs_->FileExists(dir_.Join("x/in-y")));
  EXPECT_TRUE(fs_->FileExists(dir_.Join("y/in-x")));
  EXPECT_FALSE(fs_->RenameExchange(dir_.Join("x"), dir_.Join("missing")).ok());
}

TEST_P(FileSystemTest, DirectoryOperations) {
  const std::string sub = dir_.Join("sub");
  ASSERT_TRUE(fs_->CreateDir(sub).ok());
  ASSERT_TRUE(fs_->CreateDir(sub).ok());  // exists: ok
  EXPECT_TRUE(fs_->CreateDir(dir_.Join("no/such/parent")).IsNotFound());
  WriteFile(io::JoinPath(sub, "a"), "12345");
  WriteFile(io::JoinPath(sub, "b"), "");
  std::vector<std::string> names;
  ASSERT_TRUE(fs_->ListDir(sub, &names).ok());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(fs_->SyncDir(sub).ok());
  EXPECT_TRUE(fs_->FileExists(io::JoinPath(sub, "a")));
  EXPECT_EQ(*fs_->FileSize(io::JoinPath(sub, "a")), 5u);
  ASSERT_TRUE(fs_->Rename(io::JoinPath(sub, "a"), io::JoinPath(sub, "c")).ok());
  EXPECT_FALSE(fs_->FileExists(io::JoinPath(sub, "a")));
  EXPECT_EQ(*fs_->FileSize(io::JoinPath(sub, "c")), 5u);
  EXPECT_TRUE(fs_->RemoveDir(sub).IsIOError());  // not empty
  ASSERT_TRUE(fs_->RemoveFile(io::JoinPath(sub, "b")).ok());
  ASSERT_TRUE(fs_->RemoveFile(io::JoinPath(sub, "c")).ok());
  ASSERT_TRUE(fs_->RemoveDir(sub).ok());
  EXPECT_FALSE(fs_->FileExists(sub));

  // Missing things are NotFound, naming the path.
  const std::string missing = dir_.Join("missing");
  std::unique_ptr<io::RandomAccessFile> reader;
  Status s = fs_->NewRandomAccessFile(missing, FileOptions{}, &reader);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find(missing), std::string::npos);
  std::unique_ptr<io::SequentialFile> seq;
  EXPECT_TRUE(fs_->NewSequentialFile(missing, FileOptions{}, &seq).IsNotFound());
  EXPECT_TRUE(fs_->FileSize(missing).status().IsNotFound());
  EXPECT_TRUE(fs_->RemoveFile(missing).IsNotFound());
  EXPECT_TRUE(fs_->Rename(missing, dir_.Join("x")).IsNotFound());
  EXPECT_TRUE(fs_->ListDir(missing, &names).IsNotFound());
  EXPECT_TRUE(fs_->SyncDir(missing).IsNotFound());
}

TEST_P(FileSystemTest, AtomicWriteAndReadBack) {
  const std::string path = dir_.Join("CURRENT");
  ASSERT_TRUE(io::WriteFileAtomically(fs_.get(), path, "manifest-7\n").ok());
  std::string data;
  ASSERT_TRUE(io::ReadFileToString(fs_.get(), path, &data).ok());
  EXPECT_EQ(data, "manifest-7\n");
  EXPECT_FALSE(fs_->FileExists(path + ".tmp"));
}

TEST_P(FileSystemTest, SequentialFile) {
  const std::string path = dir_.Join("f");
  const std::string data = Pattern(10000, 9);
  WriteFile(path, data);
  std::unique_ptr<io::SequentialFile> seq;
  ASSERT_TRUE(fs_->NewSequentialFile(path, FileOptions{.direct = true}, &seq).ok());
  EXPECT_EQ(seq->path(), path);
  std::string buf(4000, '\0');
  size_t n = 0;
  ASSERT_TRUE(seq->Read(4000, buf.data(), &n).ok());
  ASSERT_EQ(n, 4000u);
  EXPECT_EQ(buf, data.substr(0, 4000));
  ASSERT_TRUE(seq->Skip(1000).ok());
  std::string rest;
  while (true) {
    ASSERT_TRUE(seq->Read(buf.size(), buf.data(), &n).ok());
    if (n == 0) break;
    rest.append(buf.data(), n);
  }
  EXPECT_EQ(rest, data.substr(5000));
}

TEST_P(FileSystemTest, ConcurrentReadersShareAFile) {
  const std::string path = dir_.Join("f");
  const std::string data = Pattern(256 * 1024, 5);
  WriteFile(path, data);
  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, FileOptions{}, &reader).ok());
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      std::vector<std::string> bufs(32, std::string(1000, '\0'));
      std::vector<ReadRequest> requests(32);
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < requests.size(); ++i) {
          requests[i] = ReadRequest{
              .offset = rng() % (data.size() - 1000), .length = 1000, .buffer = bufs[i].data()};
        }
        if (!reader->ReadBatch(requests).ok()) ++mismatches[t];
        for (size_t i = 0; i < requests.size(); ++i) {
          if (bufs[i] != data.substr(requests[i].offset, 1000)) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// Drops `path` from the page cache (its pages are clean after the writer's
// close + this fdatasync) and returns how many of its pages stay resident.
size_t DropFromPageCache(const std::string& path, size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return ~size_t{0};
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return ~size_t{0};
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((bytes + page - 1) / page);
  size_t count = ~size_t{0};
  if (::mincore(map, bytes, resident.data()) == 0) {
    count = static_cast<size_t>(std::count_if(resident.begin(), resident.end(),
                                               [](unsigned char r) { return (r & 1) != 0; }));
  }
  ::munmap(map, bytes);
  return count;
}

// Single buffered reads take the page-cache path when the pages are cached
// and io_uring when they are not (io/README.md); both, and a read that
// starts cached and continues uncached, must return the same bytes, with
// short reads only at end of file.
TEST_P(FileSystemTest, ReadsHitAndMissThePageCache) {
  const uint64_t seed = TestSeed(77);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  const std::string path = dir_.Join("f");
  const std::string data = Pattern(64 * 1024 + 100, seed);  // unaligned end
  WriteFile(path, data);
  ASSERT_EQ(DropFromPageCache(path, data.size()), 0u) << "page cache not dropped";
  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, FileOptions{}, &reader).ok());
  auto expect_read = [&](uint64_t offset, size_t n) {
    SCOPED_TRACE(fmt::format("read @ {} len {}", offset, n));
    std::string buf(n, '\0');
    size_t got = ~size_t{0};
    ASSERT_TRUE(reader->Read(offset, n, buf.data(), &got).ok());
    const size_t want = offset >= data.size() ? 0 : std::min(n, data.size() - offset);
    ASSERT_EQ(got, want);
    EXPECT_EQ(buf.substr(0, got), data.substr(std::min<size_t>(offset, data.size()), want));
  };
  expect_read(8192, 4096);                 // miss: the page is not cached
  expect_read(8192, 4096);                 // hit: the same page again
  expect_read(8192 + 100, 3 * 4096);       // starts cached, continues uncached
  expect_read(data.size() - 50, 4096);     // uncached tail, short at end of file
  expect_read(data.size() - 50, 4096);     // cached tail, short at end of file
  expect_read(data.size(), 10);            // at end of file
  expect_read(data.size() + 4096, 10);     // past end of file
  ASSERT_EQ(DropFromPageCache(path, data.size()), 0u);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 200; ++i) {
    const uint64_t offset = rng() % (data.size() + 100);
    expect_read(offset, 1 + rng() % 9000);
  }
}

// A read error is an IOError naming the offset on every backend; on
// io_uring the page-cache attempt fails too and the ring reports it.
TEST_P(FileSystemTest, ReadErrorIsReportedWithOffset) {
  const std::string path = dir_.Join("f");
  WriteFile(path, Pattern(8192, 3));
  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, FileOptions{}, &reader).ok());
  // A directory underneath: the kernel refuses the read (EISDIR).
  const int fd = FindOpenFd(path);
  ASSERT_GE(fd, 0);
  const int dir_fd = ::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  ASSERT_EQ(::dup2(dir_fd, fd), fd);
  ::close(dir_fd);
  char buf[100];
  size_t n = 99;
  Status s = reader->Read(4096, sizeof(buf), buf, &n);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("@ 4096"), std::string::npos) << s.ToString();
}

// --- Lock ---------------------------------------------------------------

TEST_P(FileSystemTest, LockRefusesSecondOpenerInProcessUntilDropped) {
  const std::string path = dir_.Join("LOCK");
  std::unique_ptr<io::FileLock> first;
  ASSERT_TRUE(fs_->Lock(path, &first).ok());
  std::unique_ptr<io::FileLock> second;
  EXPECT_TRUE(fs_->Lock(path, &second).IsBusy());
  EXPECT_EQ(second, nullptr);
  first.reset();
  EXPECT_TRUE(fs_->Lock(path, &second).ok());
}

// Runs Lock(path) in a forked child; returns 0 if it was Busy, 1 if it got
// the lock, 2 for any other error.
int LockFromChild(io::FileSystem* fs, const std::string& path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::unique_ptr<io::FileLock> lock;
    Status s = fs->Lock(path, &lock);
    ::_exit(s.IsBusy() ? 0 : s.ok() ? 1 : 2);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST_P(FileSystemTest, LockRefusesAnotherProcessUntilDropped) {
  const std::string path = dir_.Join("LOCK");
  std::unique_ptr<io::FileLock> lock;
  ASSERT_TRUE(fs_->Lock(path, &lock).ok());
  EXPECT_EQ(LockFromChild(fs_.get(), path), 0);  // Busy
  lock.reset();
  EXPECT_EQ(LockFromChild(fs_.get(), path), 1);  // released
}

// --- The failed-file rule -------------------------------------------------

// Replaces the descriptor a WritableFile holds with /dev/null: writes still
// succeed, but fdatasync/fsync on a character device fail with EINVAL in
// the real kernel, on both the posix and the io_uring path.
void SwapInDevNull(const std::string& path) {
  const int fd = FindOpenFd(path);
  ASSERT_GE(fd, 0) << "no open descriptor for " << path;
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  ASSERT_EQ(::dup2(null_fd, fd), fd);
  ::close(null_fd);
}

void ExpectFailedForever(io::WritableFile* file, const Status& failure) {
  ASSERT_TRUE(failure.IsIOError()) << failure.ToString();
  EXPECT_NE(failure.message().find("file now failed"), std::string::npos) << failure.ToString();
  const std::pair<uint64_t, std::string_view> write(0, "x");
  const Status later[] = {file->Append("more"),
                          file->WriteAt(0, "x"),
                          file->Sync(),
                          file->SyncAll(),
                          file->Allocate(0, 10),
                          file->Truncate(0),
                          file->WriteAtAndSync(std::span(&write, 1))};
  for (const Status& s : later) {
    EXPECT_EQ(s.code(), failure.code());
    EXPECT_EQ(s.message(), failure.message());
  }
}

TEST_P(FileSystemTest, SyncErrorFailsTheFileForever) {
  const std::string path = dir_.Join("f");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("data").ok());
  SwapInDevNull(path);
  ExpectFailedForever(file.get(), file->Sync());
}

TEST_P(FileSystemTest, SyncAllErrorFailsTheFileForever) {
  const std::string path = dir_.Join("f");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
  SwapInDevNull(path);
  Status s = file->SyncAll();
  EXPECT_NE(s.message().find("fsync"), std::string::npos);
  ExpectFailedForever(file.get(), s);
}

TEST_P(FileSystemTest, WriteAtAndSyncErrorFailsTheFileForever) {
  const std::string path = dir_.Join("f");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
  SwapInDevNull(path);
  // The writes succeed (into /dev/null); the linked fdatasync fails.
  const std::pair<uint64_t, std::string_view> writes[] = {{0, "abc"}, {3, "def"}};
  ExpectFailedForever(file.get(), file->WriteAtAndSync(writes));
}

TEST_P(FileSystemTest, WriteErrorIsReportedWithOffset) {
  const std::string path = dir_.Join("f");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(path, FileOptions{}, &file).ok());
  // A read-only descriptor underneath: the kernel refuses the write (EBADF).
  const int fd = FindOpenFd(path);
  ASSERT_GE(fd, 0);
  const int ro = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(ro, 0);
  ASSERT_EQ(::dup2(ro, fd), fd);
  ::close(ro);
  Status s = file->WriteAt(4096, "abc");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("@ 4096"), std::string::npos) << s.ToString();
  EXPECT_EQ(file->size(), 0u);
  const std::pair<uint64_t, std::string_view> writes[] = {{0, "abc"}};
  s = file->WriteAtAndSync(writes);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  // A write error does not fail the file (no sync ran): the same rule as posix.
  EXPECT_TRUE(file->Sync().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, FileSystemTest,
                         ::testing::Values(Backend::kPosix, Backend::kUring, Backend::kUringDepth1),
                         [](const auto& info) { return BackendName(info.param); });

}  // namespace
}  // namespace strata::testing
