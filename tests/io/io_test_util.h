// Helpers for the io tests: the file systems under test and small file
// utilities.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "io/file_system.h"
#include "io/posix_file_system.h"
#include "io/uring_file_system.h"

namespace strata::testing {

// Which file system a parameterized test runs against.
enum class Backend { kPosix, kUring, kUringDepth1 };

inline std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kPosix:
      return "posix";
    case Backend::kUring:
      return "uring";
    case Backend::kUringDepth1:
      return "uring_qd1";
  }
  return "unknown";
}

// The uring variants use small rings so that batches larger than the queue
// depth (refill, chain splitting) happen with a handful of requests.
inline std::shared_ptr<io::FileSystem> MakeFileSystem(Backend backend) {
  switch (backend) {
    case Backend::kPosix:
      return io::NewPosixFileSystem();
    case Backend::kUring:
      return std::make_shared<io::UringFileSystem>(io::UringOptions{8});
    case Backend::kUringDepth1:
      return std::make_shared<io::UringFileSystem>(io::UringOptions{1});
  }
  return nullptr;
}

// The descriptor this process has open on `path`, or -1. Tests use it to
// swap the file underneath a WritableFile (dup2), which is the only honest
// way to make the real kernel fail an fdatasync.
inline int FindOpenFd(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path want = std::filesystem::canonical(path, ec);
  if (ec) return -1;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code link_ec;
    const std::filesystem::path target = std::filesystem::read_symlink(entry.path(), link_ec);
    if (!link_ec && target == want) return std::stoi(entry.path().filename().string());
  }
  return -1;
}

// A file's bytes read with plain POSIX calls, independent of the code under test.
inline std::string ReadWholeFile(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[65536];
  ssize_t r;
  while ((r = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(r));
  ::close(fd);
  return out;
}

}  // namespace strata::testing
