#include "io/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>  // renameat2
#include <cstring>
#include <string>

#include "core/assert.h"

namespace strata::io {

Result<uint64_t> FdDataEnd(const std::string& path, int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return PosixError(path, "fstat", errno);
  const off_t size = st.st_size;
  off_t data_end = 0;
  for (off_t at = 0; at < size;) {
    const off_t data = ::lseek(fd, at, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // no data at or after `at`
      if (errno == EINVAL) return static_cast<uint64_t>(size);  // no SEEK_DATA here
      return PosixError(path, "lseek SEEK_DATA", errno);
    }
    const off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return PosixError(path, "lseek SEEK_HOLE", errno);
    data_end = std::min(hole, size);
    at = hole;
  }
  return static_cast<uint64_t>(data_end);
}

Status PosixError(std::string_view path, std::string_view what, int err) {
  std::string msg = std::string(path) + ": " + std::string(what) + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IOError(msg);
}

std::shared_ptr<FileSystem> NewPosixFileSystem() { return std::make_shared<PosixFileSystem>(); }

namespace {

bool Aligned(uint64_t v) { return v % kDirectIoAlignment == 0; }

}  // namespace

Status CheckDirectIo(bool direct, const std::string& path, uint64_t offset, size_t n,
                     const void* buf) {
  if (!direct) return Status::Ok();
  if (!Aligned(offset) || !Aligned(n) || !Aligned(reinterpret_cast<uintptr_t>(buf))) {
    return Status::InvalidArgument(path + ": O_DIRECT needs offset, length and buffer aligned to " +
                                   std::to_string(kDirectIoAlignment) + " bytes");
  }
  return Status::Ok();
}

namespace {

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, bool direct)
      : path_(std::move(path)), fd_(fd), direct_(direct) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const override {
    STRATA_RETURN_IF_ERROR(CheckDirectIo(direct_, path_, offset, n, buf));
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, "pread @ " + std::to_string(offset + done), errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *bytes_read = done;
    return Status::Ok();
  }
  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return PosixError(path_, "fstat", errno);
    return static_cast<uint64_t>(st.st_size);
  }
  Result<uint64_t> DataEnd() const override { return FdDataEnd(path_, fd_); }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
  bool direct_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  Status Read(size_t n, char* buf, size_t* bytes_read) override {
    while (true) {
      ssize_t r = ::read(fd_, buf, n);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, "read", errno);
      }
      *bytes_read = static_cast<size_t>(r);
      return Status::Ok();
    }
  }
  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return PosixError(path_, "lseek", errno);
    return Status::Ok();
  }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
};

class PosixWritableFile final : public FdWritableFile {
 public:
  using FdWritableFile::FdWritableFile;

  Status WriteAt(uint64_t offset, std::string_view data) override { return PwriteAt(offset, data); }

  Status WriteAtAndSync(std::span<const std::pair<uint64_t, std::string_view>> writes) override {
    for (const auto& [offset, data] : writes) STRATA_RETURN_IF_ERROR(WriteAt(offset, data));
    return Sync();
  }

  Status Sync() override { return DoSync(/*all=*/false); }
  Status SyncAll() override { return DoSync(/*all=*/true); }

 private:
  Status DoSync(bool all) {
    STRATA_RETURN_IF_ERROR(CheckUsable());
    if ((all ? ::fsync(fd()) : ::fdatasync(fd())) != 0) return MarkSyncFailed(all, errno);
    return Status::Ok();
  }
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

}  // namespace

FdWritableFile::~FdWritableFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status FdWritableFile::PwriteAt(uint64_t offset, std::string_view data) {
  STRATA_RETURN_IF_ERROR(CheckUsable());
  STRATA_RETURN_IF_ERROR(CheckDirectIo(direct(), path(), offset, data.size(), data.data()));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r =
        ::pwrite(fd(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError(path(), "pwrite @ " + std::to_string(offset + done), errno);
    }
    done += static_cast<size_t>(r);
  }
  GrowTo(offset + data.size());
  return Status::Ok();
}

Status FdWritableFile::CheckUsable() const {
  if (!failed_.ok()) return failed_;
  if (fd_ < 0) return Status::InvalidArgument(path_ + ": file is closed");
  return Status::Ok();
}

Status FdWritableFile::MarkSyncFailed(bool all, int err) {
  failed_ = PosixError(path_, all ? "fsync (file now failed)" : "fdatasync (file now failed)", err);
  return failed_;
}

Status FdWritableFile::Allocate(uint64_t offset, uint64_t bytes) {
  STRATA_RETURN_IF_ERROR(CheckUsable());
  if (::fallocate(fd_, 0, static_cast<off_t>(offset), static_cast<off_t>(bytes)) != 0) {
    return PosixError(path_, "fallocate", errno);
  }
  GrowTo(offset + bytes);
  return Status::Ok();
}

Status FdWritableFile::Truncate(uint64_t size) {
  STRATA_RETURN_IF_ERROR(CheckUsable());
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return PosixError(path_, "ftruncate", errno);
  size_ = size;
  return Status::Ok();
}

Status FdWritableFile::Close() {
  if (fd_ < 0) return Status::Ok();
  const int r = ::close(fd_);
  fd_ = -1;
  if (r != 0) return PosixError(path_, "close", errno);
  return Status::Ok();
}

Result<int> PosixFileSystem::OpenFd(const std::string& path, int flags,
                                    const FileOptions& options) {
  if (options.direct) flags |= O_DIRECT;
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError(path, "open", errno);
  return fd;
}

Status PosixFileSystem::NewWritableFile(const std::string& path, const FileOptions& options,
                                        std::unique_ptr<WritableFile>* file) {
  STRATA_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDWR | O_CREAT | O_TRUNC, options));
  *file = std::make_unique<PosixWritableFile>(path, fd, options.direct, 0);
  return Status::Ok();
}

Status PosixFileSystem::ReopenWritableFile(const std::string& path, const FileOptions& options,
                                           std::unique_ptr<WritableFile>* file) {
  STRATA_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDWR, options));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return PosixError(path, "fstat", err);
  }
  *file = std::make_unique<PosixWritableFile>(path, fd, options.direct,
                                              static_cast<uint64_t>(st.st_size));
  return Status::Ok();
}

Status PosixFileSystem::NewRandomAccessFile(const std::string& path, const FileOptions& options,
                                            std::unique_ptr<RandomAccessFile>* file) {
  STRATA_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDONLY, options));
  *file = std::make_unique<PosixRandomAccessFile>(path, fd, options.direct);
  return Status::Ok();
}

Status PosixFileSystem::NewSequentialFile(const std::string& path, const FileOptions& options,
                                          std::unique_ptr<SequentialFile>* file) {
  FileOptions buffered = options;
  buffered.direct = false;  // sequential reads use the page cache and readahead
  STRATA_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDONLY, buffered));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  *file = std::make_unique<PosixSequentialFile>(path, fd);
  return Status::Ok();
}

Status PosixFileSystem::CreateDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return PosixError(path, "mkdir", errno);
  return Status::Ok();
}

Status PosixFileSystem::ListDir(const std::string& path, std::vector<std::string>* names) {
  names->clear();
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return PosixError(path, "opendir", errno);
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    names->emplace_back(name);
  }
  ::closedir(dir);
  return Status::Ok();
}

Status PosixFileSystem::SyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError(path, "open directory", errno);
  int r = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (r != 0) return PosixError(path, "fsync directory", err);
  return Status::Ok();
}

Status PosixFileSystem::RemoveDir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0) return PosixError(path, "rmdir", errno);
  return Status::Ok();
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(from, "rename to " + to, errno);
  return Status::Ok();
}

// The io_uring file system inherits these: IORING_OP_LINKAT/RENAMEAT would
// only move one synchronous metadata call onto the ring.
Status PosixFileSystem::LinkFile(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return Status::Ok();
  const int err = errno;
  if (err == EXDEV || err == EPERM || err == EOPNOTSUPP || err == EMLINK) {
    return Status::NotSupported(PosixError(from, "link to " + to, err).message());
  }
  return PosixError(from, "link to " + to, err);
}

Status PosixFileSystem::RenameExchange(const std::string& a, const std::string& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) {
    return Status::Ok();
  }
  const int err = errno;
  if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) {
    return Status::NotSupported(PosixError(a, "renameat2 RENAME_EXCHANGE with " + b, err).message());
  }
  return PosixError(a, "renameat2 RENAME_EXCHANGE with " + b, err);
}

Status PosixFileSystem::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return PosixError(path, "unlink", errno);
  return Status::Ok();
}

bool PosixFileSystem::FileExists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

Result<uint64_t> PosixFileSystem::FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return PosixError(path, "stat", errno);
  return static_cast<uint64_t>(st.st_size);
}

Status PosixFileSystem::Lock(const std::string& path, std::unique_ptr<FileLock>* lock) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError(path, "open lock file", errno);
  // flock locks belong to the open file description, so a second open in the
  // same process conflicts too (unlike POSIX record locks).
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Busy(path + ": locked by another user (is the database already open?)");
    }
    return PosixError(path, "flock", err);
  }
  *lock = std::make_unique<PosixFileLock>(fd);
  return Status::Ok();
}

}  // namespace strata::io
