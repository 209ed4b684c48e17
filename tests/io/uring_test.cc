// io_uring-specific behaviour: same results as posix under a random op mix,
// backend selection, the fallback when the kernel refuses io_uring, rings
// across fork and across queue depths.
#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "io/uring_ring.h"
#include "tests/io/io_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::testing {
namespace {

using io::FileOptions;
using io::ReadRequest;

void SkipWithoutUring() {
  if (!io::UringAvailable()) GTEST_SKIP() << "io_uring unavailable on this kernel";
}

// Runs `body` in a forked child and returns its exit status (-1 if it did not
// exit normally). The child's stderr goes to *child_stderr when given.
int RunInChild(const std::function<int()>& body, std::string* child_stderr = nullptr) {
  int pipe_fds[2] = {-1, -1};
  if (child_stderr != nullptr && ::pipe(pipe_fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    if (child_stderr != nullptr) ::dup2(pipe_fds[1], STDERR_FILENO);
    ::_exit(body());
  }
  if (child_stderr != nullptr) {
    ::close(pipe_fds[1]);
    char buf[512];
    ssize_t r;
    while ((r = ::read(pipe_fds[0], buf, sizeof(buf))) > 0) child_stderr->append(buf, r);
    ::close(pipe_fds[0]);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// Applies the same seeded mix of writes, syncs, truncates and batched reads
// to a posix file and an io_uring file, comparing every result.
TEST(UringFileSystem, SameResultsAsPosixUnderRandomOps) {
  SkipWithoutUring();
  const uint64_t seed = TestSeed(7);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  ScratchDir dir;
  auto posix = MakeFileSystem(Backend::kPosix);
  auto uring = MakeFileSystem(Backend::kUring);
  const std::string posix_path = dir.Join("posix");
  const std::string uring_path = dir.Join("uring");
  std::unique_ptr<io::WritableFile> pw, uw;
  ASSERT_TRUE(posix->NewWritableFile(posix_path, FileOptions{}, &pw).ok());
  ASSERT_TRUE(uring->NewWritableFile(uring_path, FileOptions{}, &uw).ok());
  std::unique_ptr<io::RandomAccessFile> pr, ur;
  ASSERT_TRUE(posix->NewRandomAccessFile(posix_path, FileOptions{}, &pr).ok());
  ASSERT_TRUE(uring->NewRandomAccessFile(uring_path, FileOptions{}, &ur).ok());

  std::mt19937_64 rng(seed);
  constexpr uint64_t kSpanBytes = 64 * 1024;
  for (int op = 0; op < 400; ++op) {
    SCOPED_TRACE(fmt::format("op {}", op));
    std::string data(rng() % 3000, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    const uint64_t offset = rng() % kSpanBytes;
    switch (rng() % 6) {
      case 0:
        ASSERT_TRUE(pw->Append(data).ok());
        ASSERT_TRUE(uw->Append(data).ok());
        break;
      case 1:
        ASSERT_TRUE(pw->WriteAt(offset, data).ok());
        ASSERT_TRUE(uw->WriteAt(offset, data).ok());
        break;
      case 2: {
        const std::pair<uint64_t, std::string_view> writes[] = {
            {offset, data}, {offset / 2, std::string_view(data).substr(0, data.size() / 2)}};
        ASSERT_TRUE(pw->WriteAtAndSync(writes).ok());
        ASSERT_TRUE(uw->WriteAtAndSync(writes).ok());
        break;
      }
      case 3:
        ASSERT_TRUE(pw->Truncate(offset).ok());
        ASSERT_TRUE(uw->Truncate(offset).ok());
        break;
      default: {
        std::vector<std::string> pbufs(20), ubufs(20);
        std::vector<ReadRequest> preq(20), ureq(20);
        for (size_t i = 0; i < preq.size(); ++i) {
          const uint64_t at = rng() % (kSpanBytes + 4096);
          const size_t length = rng() % 4096;
          pbufs[i].assign(length, '\0');
          ubufs[i].assign(length, '\0');
          preq[i] = ReadRequest{.offset = at, .length = length, .buffer = pbufs[i].data()};
          ureq[i] = ReadRequest{.offset = at, .length = length, .buffer = ubufs[i].data()};
        }
        ASSERT_TRUE(pr->ReadBatch(preq).ok());
        ASSERT_TRUE(ur->ReadBatch(ureq).ok());
        for (size_t i = 0; i < preq.size(); ++i) {
          ASSERT_EQ(preq[i].bytes_read, ureq[i].bytes_read);
          ASSERT_EQ(pbufs[i], ubufs[i]);
        }
      }
    }
    ASSERT_EQ(pw->size(), uw->size());
  }
  ASSERT_TRUE(pw->Close().ok());
  ASSERT_TRUE(uw->Close().ok());
  EXPECT_EQ(ReadWholeFile(posix_path), ReadWholeFile(uring_path));
}

// Backend choice and the fallback are decided once per process, so these
// tests run the UringChild tests below (which skip unless run this way) in a fresh copy of this
// binary (fork + exec of /proc/self/exe) with the environment they need, and read the child's exit
// status and stderr.
constexpr const char* kChildModeEnv = "STRATA_IO_TEST_CHILD";

int RunFreshChild(const std::string& test_name, const std::vector<std::string>& env,
                  std::string* child_stderr) {
  return RunInChild(
      [&] {
        for (const std::string& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
        const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        ::dup2(null_fd, STDOUT_FILENO);
        const std::string filter = "--gtest_filter=UringChild." + test_name;
        const char* argv[] = {"io_test", filter.c_str(), nullptr};
        ::execv("/proc/self/exe", const_cast<char**>(argv));
        return 99;
      },
      child_stderr);
}

// Child: exits 10 if DefaultFileSystem() is posix, 20 if uring.
TEST(UringChild, ReportBackend) {
  if (std::getenv(kChildModeEnv) == nullptr) GTEST_SKIP();
  const std::string_view name = io::DefaultFileSystem()->name();
  ::_exit(name == "posix" ? 10 : name == "uring" ? 20 : 30);
}

TEST(UringFileSystem, BackendEnvironmentVariable) {
  SkipWithoutUring();
  std::string err;
  EXPECT_EQ(RunFreshChild("ReportBackend", {"STRATA_IO_TEST_CHILD=1"}, &err), 20) << err;
  EXPECT_EQ(
      RunFreshChild("ReportBackend", {"STRATA_IO_TEST_CHILD=1", "STRATA_IO_BACKEND=uring"}, &err),
      20)
      << err;
  EXPECT_EQ(
      RunFreshChild("ReportBackend", {"STRATA_IO_TEST_CHILD=1", "STRATA_IO_BACKEND=posix"}, &err),
      10)
      << err;
  EXPECT_EQ(err, "");  // choosing a backend is silent
  EXPECT_EQ(
      RunFreshChild("ReportBackend", {"STRATA_IO_TEST_CHILD=1", "STRATA_IO_BACKEND=bogus"}, &err),
      20)
      << err;
  EXPECT_NE(err.find("ignoring STRATA_IO_BACKEND=bogus"), std::string::npos) << err;
}

// Installs a seccomp filter that makes io_uring_setup fail with `err`, the
// way a container runtime or an old kernel (ENOSYS) refuses it.
bool BlockIoUringSetup(int err) {
#if defined(__x86_64__)
  constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
  return false;
#endif
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<uint32_t>(err) & 0xffff)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{.len = static_cast<unsigned short>(std::size(filter)), .filter = filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// Child: blocks io_uring_setup with errno STRATA_IO_TEST_CHILD, then checks
// that every way of asking for io_uring yields a working posix file system.
TEST(UringChild, BlockedIoUring) {
  const char* mode = std::getenv(kChildModeEnv);
  if (mode == nullptr) GTEST_SKIP();
  if (!BlockIoUringSetup(std::atoi(mode))) ::_exit(77);
  if (io::UringAvailable()) ::_exit(1);
  auto fs = io::DefaultFileSystem();
  auto again = io::NewUringFileSystem(io::UringOptions{});
  if (fs->name() != "posix" || again->name() != "posix") ::_exit(2);
  const char* path = std::getenv("STRATA_IO_TEST_PATH");
  std::unique_ptr<io::WritableFile> file;
  if (path == nullptr || !fs->NewWritableFile(path, FileOptions{}, &file).ok()) ::_exit(3);
  if (!file->Append("fallback").ok() || !file->Sync().ok()) ::_exit(4);
  ::_exit(0);
}

TEST(UringFileSystem, FallsBackToPosixWhenKernelRefusesIoUring) {
  ScratchDir dir;
  for (int err : {ENOSYS, EPERM}) {
    SCOPED_TRACE(fmt::format("errno {}", err));
    std::string child_stderr;
    const std::string path = dir.Join(fmt::format("f{}", err));
    const int code = RunFreshChild(
        "BlockedIoUring", {fmt::format("{}={}", kChildModeEnv, err), "STRATA_IO_TEST_PATH=" + path},
        &child_stderr);
    if (code == 77) GTEST_SKIP() << "cannot install a seccomp filter here";
    ASSERT_EQ(code, 0) << child_stderr;
    EXPECT_EQ(ReadWholeFile(path), "fallback");
    // Exactly one line, however many file systems were made.
    EXPECT_EQ(std::count(child_stderr.begin(), child_stderr.end(), '\n'), 1) << child_stderr;
    EXPECT_NE(child_stderr.find("io_uring unavailable"), std::string::npos) << child_stderr;
    EXPECT_NE(child_stderr.find("posix"), std::string::npos) << child_stderr;
  }
}

TEST(UringFileSystem, RingsWorkAcrossFork) {
  SkipWithoutUring();
  ScratchDir dir;
  auto fs = MakeFileSystem(Backend::kUring);
  const std::string path = dir.Join("f");
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(path, FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("parent").ok());  // this thread now has a ring
  const int code = RunInChild([&] {
    // The child must not touch the parent's ring: it makes its own.
    std::unique_ptr<io::WritableFile> child_file;
    if (!fs->ReopenWritableFile(path, FileOptions{}, &child_file).ok()) return 1;
    if (!child_file->Append("+child").ok() || !child_file->Sync().ok()) return 2;
    return 0;
  });
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(file->WriteAt(12, "+parent").ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(ReadWholeFile(path), "parent+child+parent");
}

TEST(UringFileSystem, QueueDepthsShareAThreadRing) {
  SkipWithoutUring();
  ScratchDir dir;
  const std::string path = dir.Join("f");
  std::string data(1 << 20, '\0');
  std::mt19937_64 rng(TestSeed(11));
  for (char& c : data) c = static_cast<char>(rng());
  {
    std::unique_ptr<io::WritableFile> file;
    ASSERT_TRUE(MakeFileSystem(Backend::kPosix)->NewWritableFile(path, {}, &file).ok());
    ASSERT_TRUE(file->Append(data).ok());
  }
  // Small, large (the ring grows), then small again (the large ring serves it).
  for (unsigned depth : {2u, 256u, 4u}) {
    SCOPED_TRACE(fmt::format("queue_depth {}", depth));
    io::UringFileSystem fs(io::UringOptions{depth});
    std::unique_ptr<io::RandomAccessFile> reader;
    ASSERT_TRUE(fs.NewRandomAccessFile(path, FileOptions{}, &reader).ok());
    std::vector<std::string> bufs(600, std::string(512, '\0'));
    std::vector<ReadRequest> requests(bufs.size());
    for (size_t i = 0; i < bufs.size(); ++i) {
      requests[i] = ReadRequest{
          .offset = rng() % (data.size() - 512), .length = 512, .buffer = bufs[i].data()};
    }
    ASSERT_TRUE(reader->ReadBatch(requests).ok());
    for (size_t i = 0; i < bufs.size(); ++i) {
      ASSERT_EQ(bufs[i], data.substr(requests[i].offset, 512)) << "request " << i;
    }
  }
}

// Makes the calling thread's ring fail: its descriptor becomes /dev/null, so
// the next io_uring_enter fails with EOPNOTSUPP, as a broken ring would.
void BreakThreadRing(unsigned entries) {
  Result<io::UringRing*> ring = io::ThreadRing(entries);
  ASSERT_TRUE(ring.ok());
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  ASSERT_EQ(::dup2(null_fd, (*ring)->ring()->ring_fd), (*ring)->ring()->ring_fd);
  ::close(null_fd);
}

TEST(UringFileSystem, BrokenRingIsReportedThenReplaced) {
  SkipWithoutUring();
  ScratchDir dir;
  const std::string path = dir.Join("f");
  auto fs = MakeFileSystem(Backend::kUring);
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(fs->NewWritableFile(path, FileOptions{}, &file).ok());
  ASSERT_TRUE(file->Append("hello ring").ok());
  std::unique_ptr<io::RandomAccessFile> reader;
  ASSERT_TRUE(fs->NewRandomAccessFile(path, FileOptions{}, &reader).ok());
  char buf[16];
  size_t n = 0;

  BreakThreadRing(8);
  // ReadBatch always uses the ring (a single cached Read would be served
  // from the page cache without it).
  io::ReadRequest req{.offset = 0, .length = sizeof(buf), .buffer = buf};
  Status s = reader->ReadBatch(std::span(&req, 1));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(req.status.ToString(), s.ToString());
  EXPECT_NE(s.message().find("io_uring"), std::string::npos) << s.ToString();
  // The next call gets a fresh ring.
  ASSERT_TRUE(reader->Read(0, sizeof(buf), buf, &n).ok());
  EXPECT_EQ(std::string_view(buf, n), "hello ring");

  // A buffered append is a pwrite (io/uring_file_system.cc says why); a sync
  // goes through the ring.
  BreakThreadRing(8);
  s = file->Sync();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("io_uring"), std::string::npos) << s.ToString();
  // A broken ring is not a failed sync: the file stays usable.
  ASSERT_TRUE(file->Append("!").ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(ReadWholeFile(path), "hello ring!");
}

}  // namespace
}  // namespace strata::testing
