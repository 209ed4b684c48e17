// UringFileSystem: the default file system. Reads, writes and
// fdatasync/fsync go through io_uring; directory and metadata calls,
// fallocate, ftruncate and sequential reads are PosixFileSystem's.
//
// Rings: every thread that does I/O has its own ring (io/uring_ring.h),
// created on first use with UringOptions::queue_depth slots. Every call
// submits its requests and waits for all of them, so files hold no ring and
// may be used from any thread (WritableFile: one user at a time;
// RandomAccessFile: concurrently, each reader on its own thread's ring).
//
// Batching: RandomAccessFile::ReadBatch keeps up to queue_depth reads in
// flight, refilling as completions arrive; WritableFile::WriteAtAndSync
// submits its writes and the fdatasync as one linked chain in one
// submission (when they fit in the ring), so the sync runs only after every
// write completed in full.
//
// Fallback: if io_uring_queue_init fails in this process (old kernel,
// seccomp: ENOSYS, EPERM) the factory functions return posix files instead
// and one line on stderr says so. STRATA_IO_BACKEND=posix|uring chooses the
// backend of DefaultFileSystem().
//
// Failed files: after an fdatasync/fsync error a WritableFile returns that
// same IOError from every later write and sync, exactly like the posix one.
#pragma once

#include <memory>
#include <string>

#include "io/posix_file_system.h"

namespace strata::io {

struct UringOptions {
  // Requests in flight per thread (ring size). ReadBatch keeps this many
  // reads outstanding; a WriteAtAndSync with more writes than this is split.
  // REQUIRES: 1 <= queue_depth <= kUringQueueDepthMax (io/uring_ring.h).
  unsigned queue_depth = 64;
};

class UringFileSystem : public PosixFileSystem {
 public:
  explicit UringFileSystem(const UringOptions& options);

  Status NewWritableFile(const std::string& path, const FileOptions& options,
                         std::unique_ptr<WritableFile>* file) override;
  Status ReopenWritableFile(const std::string& path, const FileOptions& options,
                            std::unique_ptr<WritableFile>* file) override;
  Status NewRandomAccessFile(const std::string& path, const FileOptions& options,
                             std::unique_ptr<RandomAccessFile>* file) override;
  std::string_view name() const override { return "uring"; }

  const UringOptions& options() const { return options_; }

 private:
  UringOptions options_;
};

// True if io_uring works in this process (probed once; the first failed
// probe prints one line to stderr).
bool UringAvailable();

// An io_uring file system, or a posix one if io_uring is unavailable.
std::shared_ptr<FileSystem> NewUringFileSystem(const UringOptions& options = UringOptions{});

}  // namespace strata::io
