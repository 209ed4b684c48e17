// PosixFileSystem: pread/pwrite/fdatasync. It is the fallback when io_uring is
// unavailable, and the base class of the io_uring file system, which overrides
// only the data-path calls; directory and metadata calls are shared.
#pragma once

#include <memory>
#include <string>

#include "io/file_system.h"

namespace strata::io {

class PosixFileSystem : public FileSystem {
 public:
  Status NewWritableFile(const std::string& path, const FileOptions& options,
                         std::unique_ptr<WritableFile>* file) override;
  Status ReopenWritableFile(const std::string& path, const FileOptions& options,
                            std::unique_ptr<WritableFile>* file) override;
  Status NewRandomAccessFile(const std::string& path, const FileOptions& options,
                             std::unique_ptr<RandomAccessFile>* file) override;
  Status NewSequentialFile(const std::string& path, const FileOptions& options,
                           std::unique_ptr<SequentialFile>* file) override;

  Status CreateDir(const std::string& path) override;
  Status ListDir(const std::string& path, std::vector<std::string>* names) override;
  Status SyncDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Lock(const std::string& path, std::unique_ptr<FileLock>* lock) override;
  std::string_view name() const override { return "posix"; }

 protected:
  // Opens with O_DIRECT when asked; returns the fd or an IOError naming path.
  static Result<int> OpenFd(const std::string& path, int flags, const FileOptions& options);
};

// A plain posix file system (pread/pwrite/fdatasync), whatever the kernel offers.
std::shared_ptr<FileSystem> NewPosixFileSystem();

// Checks the O_DIRECT rules for one transfer: InvalidArgument naming `path`
// unless offset, length and buffer are multiples of kDirectIoAlignment.
Status CheckDirectIo(bool direct, const std::string& path, uint64_t offset, size_t n,
                     const void* buf);

// "path: what: strerror(err)" as an IOError (NotFound for ENOENT).
Status PosixError(std::string_view path, std::string_view what, int err);

}  // namespace strata::io
