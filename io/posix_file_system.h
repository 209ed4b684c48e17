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
  Status LinkFile(const std::string& from, const std::string& to) override;
  Status RenameExchange(const std::string& a, const std::string& b) override;
  Status RemoveFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Lock(const std::string& path, std::unique_ptr<FileLock>* lock) override;
  std::string_view name() const override { return "posix"; }

 protected:
  // Opens with O_DIRECT when asked; returns the fd or an IOError naming path.
  static Result<int> OpenFd(const std::string& path, int flags, const FileOptions& options);
};

// The metadata half of a WritableFile over a file descriptor, shared by the
// posix and io_uring files: they differ only in how data moves (WriteAt,
// WriteAtAndSync, Sync, SyncAll). Owns the fd. After a failed sync the file
// is failed for good (MarkSyncFailed): every later call returns that Status.
class FdWritableFile : public WritableFile {
 public:
  FdWritableFile(std::string path, int fd, bool direct, uint64_t size)
      : path_(std::move(path)), fd_(fd), direct_(direct), size_(size) {}
  ~FdWritableFile() override;

  Status Append(std::string_view data) override { return WriteAt(size_, data); }
  Status Allocate(uint64_t offset, uint64_t bytes) override;
  Status Truncate(uint64_t size) override;
  Status Close() override;
  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 protected:
  // The sticky failure, or InvalidArgument once closed.
  Status CheckUsable() const;
  // Writes all of `data` at `offset` with pwrite(2) (retrying short writes).
  Status PwriteAt(uint64_t offset, std::string_view data);
  // Records a failed fsync (all) or fdatasync and returns it: never retried,
  // because the kernel may have dropped the dirty pages.
  Status MarkSyncFailed(bool all, int err);
  void GrowTo(uint64_t end) {
    if (end > size_) size_ = end;
  }
  int fd() const { return fd_; }
  bool direct() const { return direct_; }

 private:
  std::string path_;
  int fd_;
  bool direct_;
  uint64_t size_;
  Status failed_;
};

// A plain posix file system (pread/pwrite/fdatasync), whatever the kernel offers.
std::shared_ptr<FileSystem> NewPosixFileSystem();

// Checks the O_DIRECT rules for one transfer: InvalidArgument naming `path`
// unless offset, length and buffer are multiples of kDirectIoAlignment.
Status CheckDirectIo(bool direct, const std::string& path, uint64_t offset, size_t n,
                     const void* buf);

// RandomAccessFile::DataEnd for an open descriptor: the end of its last data
// extent by SEEK_DATA/SEEK_HOLE (ext4 reports unwritten extents without
// cached pages as holes); the file size where the file system has no holes
// to report.
Result<uint64_t> FdDataEnd(const std::string& path, int fd);

// "path: what: strerror(err)" as an IOError (NotFound for ENOENT).
Status PosixError(std::string_view path, std::string_view what, int err);

}  // namespace strata::io
