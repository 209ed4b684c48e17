// DefaultFileSystem(): io_uring when the kernel allows it, else posix.
//
// STRATA_IO_BACKEND=posix forces the posix path (tests, benchmarks, or a
// kernel whose io_uring misbehaves); STRATA_IO_BACKEND=uring asks for
// io_uring explicitly and still falls back, with the usual one-line notice,
// when io_uring_queue_init fails. Any other value is reported once on stderr
// and ignored.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "io/file_system.h"
#include "io/posix_file_system.h"
#include "io/uring_file_system.h"

namespace strata::io {

namespace {

constexpr const char* kBackendEnv = "STRATA_IO_BACKEND";

std::shared_ptr<FileSystem> MakeDefaultFileSystem() {
  const char* env = std::getenv(kBackendEnv);
  const std::string_view backend = env != nullptr ? env : "";
  if (backend == "posix") return NewPosixFileSystem();
  if (!backend.empty() && backend != "uring") {
    std::fprintf(stderr, "strata: ignoring %s=%s (expected posix or uring)\n", kBackendEnv, env);
  }
  return NewUringFileSystem(UringOptions{});
}

}  // namespace

std::shared_ptr<FileSystem> DefaultFileSystem() {
  static const std::shared_ptr<FileSystem> fs = MakeDefaultFileSystem();
  return fs;
}

}  // namespace strata::io
