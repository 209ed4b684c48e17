// FileSystem: the layer every byte strata stores goes through.
//
// The default implementation (io/uring_file_system.h, DefaultFileSystem())
// does data I/O through io_uring and falls back to pread/pwrite/fdatasync
// when io_uring is unavailable. Wrappers add fault injection for tests
// (io/fault_file_system.h) and a device cost model (io/device_model.h).
//
// Errors: every call returns a Status naming the path (and offset where one
// applies). After a failed Sync()/SyncAll() a WritableFile is "failed": every
// later write or sync returns the same IOError, because the kernel may have
// dropped the dirty pages and a retry would pretend the data is safe.
//
// Thread safety: a FileSystem may be used from any thread. A RandomAccessFile
// may be read concurrently. A WritableFile has one user at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/status.h"

namespace strata::io {

// Alignment that O_DIRECT buffers, offsets and lengths must honour.
inline constexpr size_t kDirectIoAlignment = 4096;

struct FileOptions {
  // O_DIRECT: bypass the page cache. Buffers, offsets and lengths must be
  // multiples of kDirectIoAlignment (use AlignedBuffer); violating that is
  // InvalidArgument, not a kernel EINVAL surprise.
  bool direct = false;
};

// One read of a batch: filled in by ReadBatch.
struct ReadRequest {
  uint64_t offset = 0;
  size_t length = 0;
  char* buffer = nullptr;  // REQUIRES: room for `length` bytes
  size_t bytes_read = 0;   // short only at end of file
  Status status;
};

// Reads at offsets; safe for concurrent use.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into buf; *bytes_read < n only at EOF.
  virtual Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const = 0;
  // Many reads in one submission (real queue depth on io_uring). Returns the
  // first error; each request also carries its own status.
  virtual Status ReadBatch(std::span<ReadRequest> requests) const;
  virtual Result<uint64_t> Size() const = 0;
  // Every byte at or past this offset reads as zero because the file system
  // stores no data there (a hole, or fallocated space never written): a
  // reader that treats zeros as "no data" need not read them. Default (and
  // where the file system cannot tell): Size().
  virtual Result<uint64_t> DataEnd() const { return Size(); }
  virtual const std::string& path() const = 0;
};

// Reads front to back.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into buf; *bytes_read == 0 means end of file.
  virtual Status Read(size_t n, char* buf, size_t* bytes_read) = 0;
  virtual Status Skip(uint64_t n) = 0;
  virtual const std::string& path() const = 0;
};

// Appends and writes at offsets; one user at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes at the current end (size()) and advances it.
  virtual Status Append(std::string_view data) = 0;
  // Writes at `offset`; size() becomes max(size(), offset + data.size()).
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Several writes followed by one fdatasync, linked in one io_uring
  // submission (write -> write -> fdatasync): the sync runs only if every
  // write completed in full.
  virtual Status WriteAtAndSync(std::span<const std::pair<uint64_t, std::string_view>> writes) = 0;
  // fdatasync: data and the metadata needed to read it back.
  virtual Status Sync() = 0;
  // fsync: also other metadata (e.g. after a size change you rely on).
  virtual Status SyncAll() = 0;
  // fallocate(mode 0): reserves [offset, offset+bytes) and extends the size.
  virtual Status Allocate(uint64_t offset, uint64_t bytes) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Status Close() = 0;
  // Logical size: the highest byte written, allocated or truncated to.
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

// Held while a database is open; dropping it releases the lock.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates or truncates.
  virtual Status NewWritableFile(const std::string& path, const FileOptions& options,
                                 std::unique_ptr<WritableFile>* file) = 0;
  // Opens an existing file for writing without truncating; size() starts at its length.
  virtual Status ReopenWritableFile(const std::string& path, const FileOptions& options,
                                    std::unique_ptr<WritableFile>* file) = 0;
  virtual Status NewRandomAccessFile(const std::string& path, const FileOptions& options,
                                     std::unique_ptr<RandomAccessFile>* file) = 0;
  virtual Status NewSequentialFile(const std::string& path, const FileOptions& options,
                                   std::unique_ptr<SequentialFile>* file) = 0;

  virtual Status CreateDir(const std::string& path) = 0;         // Ok if it exists
  virtual Status ListDir(const std::string& path, std::vector<std::string>* names) = 0;
  // fsync on the directory: makes creates, renames and removes in it durable.
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Status RemoveDir(const std::string& path) = 0;         // must be empty

  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes `to` a second name of the file `from` (a hard link: both names
  // share one inode, so its contents are durable once, through either name).
  // The new name is durable after SyncDir of its directory. NotSupported when
  // this file system cannot link the two paths (EXDEV: another file system;
  // EPERM/EOPNOTSUPP: no hard links; EMLINK): the caller copies instead.
  // Other failures (from missing, to existing) are IOError.
  virtual Status LinkFile(const std::string& from, const std::string& to) {
    return Status::NotSupported(from + ": LinkFile to " + to + " not supported by " +
                                std::string(name()));
  }
  // Swaps the two names atomically (Linux renameat2 RENAME_EXCHANGE): after a
  // crash either both are swapped or neither, once SyncDir of their
  // directories made it durable. Both must exist. NotSupported where the
  // kernel or file system lacks it.
  virtual Status RenameExchange(const std::string& a, const std::string& b) {
    return Status::NotSupported(a + ": RenameExchange with " + b + " not supported by " +
                                std::string(name()));
  }
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;

  // Exclusive lock (flock on `path`, created if missing). A second Lock of the
  // same path, from this or another process, is Busy until the first is dropped.
  virtual Status Lock(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;

  // Short name for logs and tool output ("uring", "posix", "fault(uring)").
  virtual std::string_view name() const = 0;
};

// The process-wide default file system (io_uring with fallback). Never null.
std::shared_ptr<FileSystem> DefaultFileSystem();

// Helpers over any FileSystem.
Status ReadFileToString(FileSystem* fs, const std::string& path, std::string* data);
// Writes data to path via path.tmp + Sync + Rename + SyncDir: all or nothing.
Status WriteFileAtomically(FileSystem* fs, const std::string& path, std::string_view data);
// Copies the file `from` to `to` (created or truncated) and syncs it.
Status CopyFile(FileSystem* fs, const std::string& from, const std::string& to);
// LinkFile, or CopyFile where the file system cannot link (NotSupported,
// e.g. EXDEV). *linked says which happened.
Status LinkOrCopyFile(FileSystem* fs, const std::string& from, const std::string& to,
                      bool* linked);
// Removes `path` and everything below it (files and directories); Ok if it
// does not exist.
Status RemoveTree(FileSystem* fs, const std::string& path);
std::string JoinPath(std::string_view dir, std::string_view name);
std::string DirName(std::string_view path);

// Building a directory `dir` beside where it will live (checkpoints,
// snapshot installs): "<dir><infix><pid>-<n>", unique in this process. The
// pid lets RemoveAbandonedScratchDirs tell whether its builder may still run.
std::string ScratchDirFor(const std::string& dir, std::string_view infix);
// Removes every "<dir><infix><pid>-<n>" whose process no longer exists
// (nobody will finish or rename it), then syncs the parent if it removed
// any. Names of live processes, or not of this shape, are left alone.
Status RemoveAbandonedScratchDirs(FileSystem* fs, const std::string& dir, std::string_view infix);

}  // namespace strata::io
